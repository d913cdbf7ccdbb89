package server

import (
	"encoding/json"
	"net/http"
	"strconv"
)

// apiError is an error as OpenAI reports it, with the HTTP status it goes
// out with. Client libraries turn this shape into their API error types.
type apiError struct {
	Status  int     `json:"-"`
	Message string  `json:"message"`
	Type    string  `json:"type"`
	Param   *string `json:"param"`
	Code    *string `json:"code"`
}

func (e *apiError) Error() string { return e.Message }

// OpenAI's error types.
const (
	typeInvalidRequest = "invalid_request_error"
	typeServer         = "server_error"
	typeRateLimit      = "rate_limit_error"
	typeTimeout        = "timeout_error"
)

func strp(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// badRequest is a 400 about one parameter of the request.
func badRequest(param, msg string) *apiError {
	return &apiError{Status: http.StatusBadRequest, Message: msg, Type: typeInvalidRequest, Param: strp(param)}
}

func newAPIError(status int, typ, code, msg string) *apiError {
	return &apiError{Status: status, Message: msg, Type: typ, Code: strp(code)}
}

// errorBody wraps an error the way OpenAI's responses and stream events do.
type errorBody struct {
	Error *apiError `json:"error"`
}

func writeError(w http.ResponseWriter, e *apiError) {
	writeJSON(w, e.Status, errorBody{e})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil { // only our own types get here; they always marshal
		status = http.StatusInternalServerError
		b = []byte(`{"error":{"message":"response encoding failed","type":"server_error","param":null,"code":null}}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)+1))
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}
