package runtime

// SetLayerHook installs fn to be called after every decoder layer of every
// forward pass of this Session with the residual stream of the batch,
// row-major [tokens][Embedding]. The slice is scratch memory, valid only
// during the call. It exists for verification and debugging (bitnet verify
// --layers finds the first layer where a conversion diverges); nil removes
// the hook.
func (s *Session) SetLayerHook(fn func(layer int, hidden []float32)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.st.layerHook = fn
}
