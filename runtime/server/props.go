package server

import "net/http"

// props is GET /props in llama-server's shape, for front-ends written
// against llama-server that read the context size, the slots and the
// default sampling settings from it.
type props struct {
	DefaultGenerationSettings generationSettings `json:"default_generation_settings"`
	TotalSlots                int                `json:"total_slots"`
	ModelAlias                string             `json:"model_alias"`
	ModelPath                 string             `json:"model_path"`
	ChatTemplate              string             `json:"chat_template"`
	ChatFormat                string             `json:"chat_format"`
	BOSToken                  string             `json:"bos_token"`
	EOSToken                  string             `json:"eos_token"`
	Modalities                map[string]bool    `json:"modalities"`
	BuildInfo                 string             `json:"build_info"`
}

type generationSettings struct {
	NCtx         int              `json:"n_ctx"`
	IsProcessing bool             `json:"is_processing"`
	Params       generationParams `json:"params"`
}

// generationParams are the defaults a request gets for fields it leaves
// out.
type generationParams struct {
	NPredict         int      `json:"n_predict"`
	Temperature      float64  `json:"temperature"`
	TopK             int      `json:"top_k"`
	TopP             float64  `json:"top_p"`
	MinP             float64  `json:"min_p"`
	RepeatPenalty    float64  `json:"repeat_penalty"`
	RepeatLastN      int      `json:"repeat_last_n"`
	PresencePenalty  float64  `json:"presence_penalty"`
	FrequencyPenalty float64  `json:"frequency_penalty"`
	Seed             int      `json:"seed"` // -1: random
	Stop             []string `json:"stop"`
	Stream           bool     `json:"stream"`
}

func (s *Server) handleProps(w http.ResponseWriter, r *http.Request) {
	var info ModelInfo
	if d, ok := s.eng.(Describer); ok {
		info = d.Describe()
	}
	writeJSON(w, http.StatusOK, props{
		DefaultGenerationSettings: generationSettings{
			NCtx:         s.eng.ContextLength(),
			IsProcessing: s.sched.nActive.Load() > 0,
			Params: generationParams{
				NPredict: s.cfg.MaxTokens, Temperature: 1, TopP: 1, RepeatPenalty: 1,
				RepeatLastN: defaultLastN, Seed: -1, Stop: []string{},
			},
		},
		TotalSlots:   s.eng.Slots(),
		ModelAlias:   s.cfg.ModelID,
		ModelPath:    info.Path,
		ChatTemplate: info.ChatTemplate,
		ChatFormat:   info.ChatFormat,
		BOSToken:     info.BOS,
		EOSToken:     info.EOS,
		Modalities:   map[string]bool{"vision": false, "audio": false},
		BuildInfo:    s.cfg.BuildInfo,
	})
}
