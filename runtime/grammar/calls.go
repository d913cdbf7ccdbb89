package grammar

// Function is one callable tool: its name and the schema of its
// arguments.
type Function struct {
	Name       string
	Parameters *Schema
}

// Calls is the schema of a reply that calls tools: a JSON array of calls,
// each {"name": NAME, "arguments": ARGS}, name first so that a stream
// reader learns which function is called before its arguments arrive, and
// ARGS valid against that function's parameters. With parallel false the
// array holds exactly one call.
func Calls(funcs []Function, parallel bool) *Schema {
	// Only the new nodes go through finish: the parameters' schemas are
	// done (their sizes final) and may be in use by other matchers.
	c := &compiler{}
	one := c.newNode()
	for _, f := range funcs {
		name := c.newNode()
		lit, _ := canonical(f.Name)
		name.lits = [][]byte{lit}
		call := c.newNode()
		call.types = tObject
		call.ordered = true
		call.props = []prop{
			{name: "arguments", enc: []byte("arguments"), n: f.Parameters.root},
			{name: "name", enc: []byte("name"), n: name},
		}
		call.seq = []int{1, 0}
		call.required = 3
		one.alts = append(one.alts, call)
	}
	arr := c.newNode()
	arr.types = tArray
	arr.items = one
	arr.minItems = 1
	if !parallel {
		arr.maxItems = 1
	}
	s, err := c.finish(arr)
	if err != nil {
		panic(err) // every part was compiled and is satisfiable
	}
	return s
}
