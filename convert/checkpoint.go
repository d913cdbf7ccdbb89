package convert

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
)

// Checkpoint is an opened Hugging Face checkpoint directory. Tensor data stay
// in memory maps of the safetensors files until Close.
type Checkpoint struct {
	Dir        string
	Config     *Config
	Generation *GenerationConfig
	Arch       *Arch

	shards  []*shard
	byName  map[string]*Tensor
	tensors []*Tensor // all tensors, shard by shard in file order
	weights []Weight  // the GGUF tensors, in GGUF order
}

// Tensor is one tensor of a checkpoint, viewed in place in its file.
type Tensor struct {
	Name  string
	DType string   // safetensors dtype: "BF16", "F16", "F32", "U8", ...
	Shape []uint64 // row-major, Shape[0] outermost (PyTorch order)
	Data  []byte   // zero-copy view, valid until Checkpoint.Close
	File  string   // base name of the file holding it

	shard *shard
	off   int // offset of Data in the file
}

// Elements returns the number of elements (1 for a scalar).
func (t *Tensor) Elements() uint64 {
	n := uint64(1)
	for _, d := range t.Shape {
		n *= d
	}
	return n
}

// release drops the tensor's pages from the resident set; see mapping.release.
func (t *Tensor) release() { t.releaseRange(0, len(t.Data)) }

// releaseRange drops Data[from:from+n] from the resident set.
func (t *Tensor) releaseRange(from, n int) {
	if t.shard != nil {
		t.shard.m.release(t.off+from, n)
	}
}

// OpenCheckpoint reads dir's config, locates and validates the safetensors
// files (single or sharded), resolves the architecture and checks that every
// tensor the GGUF needs is present with the shape the config implies.
func OpenCheckpoint(dir string) (*Checkpoint, error) {
	st, err := os.Stat(dir)
	if err != nil {
		return nil, err
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("%s: not a directory", dir)
	}
	cfg, err := readConfig(dir)
	if err != nil {
		return nil, err
	}
	arch, err := resolveArch(cfg)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, "config.json"), err)
	}
	gen, err := readGenerationConfig(dir)
	if err != nil {
		return nil, err
	}
	c := &Checkpoint{Dir: dir, Config: cfg, Generation: gen, Arch: arch, byName: map[string]*Tensor{}}
	if err := c.openShards(); err != nil {
		c.Close()
		return nil, err
	}
	if err := c.plan(); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// Close unmaps the checkpoint's files. Tensor data must not be used after.
func (c *Checkpoint) Close() error {
	var errs []error
	for _, s := range c.shards {
		errs = append(errs, s.close())
	}
	c.shards = nil
	return errors.Join(errs...)
}

// TensorNames returns the names of all tensors, in file order.
func (c *Checkpoint) TensorNames() []string {
	names := make([]string, len(c.tensors))
	for i, t := range c.tensors {
		names[i] = t.Name
	}
	return names
}

// Tensor returns the tensor with the given Hugging Face name.
func (c *Checkpoint) Tensor(name string) (*Tensor, bool) {
	t, ok := c.byName[name]
	return t, ok
}

// Float32 returns a tensor converted to float32 (from BF16, F16, F32 or
// F64), refusing NaN and infinite values.
func (c *Checkpoint) Float32(name string) ([]float32, error) {
	t, ok := c.byName[name]
	if !ok {
		return nil, fmt.Errorf("%s: no tensor %q", c.Dir, name)
	}
	return t.Float32()
}

var shardPattern = regexp.MustCompile(`^model-(\d+)-of-(\d+)\.safetensors$`)

// openShards finds the weight files: an index (sharded), a single
// model.safetensors, or shards named model-XXXXX-of-YYYYY without an index.
func (c *Checkpoint) openShards() error {
	indexPath := filepath.Join(c.Dir, "model.safetensors.index.json")
	var index struct {
		WeightMap map[string]string `json:"weight_map"`
	}
	err := readJSONFile(indexPath, maxJSONFile, &index)
	switch {
	case err == nil:
		return c.openIndexed(indexPath, index.WeightMap)
	case !errors.Is(err, fs.ErrNotExist):
		return err
	}
	single := filepath.Join(c.Dir, "model.safetensors")
	if _, err := os.Stat(single); err == nil {
		return c.addShards([]string{single})
	}
	entries, err := os.ReadDir(c.Dir)
	if err != nil {
		return err
	}
	var files []string
	total := -1
	seen := map[int]bool{}
	for _, e := range entries {
		m := shardPattern.FindStringSubmatch(e.Name())
		if m == nil {
			continue
		}
		i, _ := strconv.Atoi(m[1])
		n, _ := strconv.Atoi(m[2])
		if total >= 0 && n != total {
			return fmt.Errorf("%s: shards disagree on their count (%s says %d, another %d)", c.Dir, e.Name(), n, total)
		}
		total = n
		seen[i] = true
		files = append(files, filepath.Join(c.Dir, e.Name()))
	}
	if len(files) == 0 {
		if matches, _ := filepath.Glob(filepath.Join(c.Dir, "*.bin")); len(matches) > 0 {
			return fmt.Errorf("%s: only PyTorch .bin weights found; bitnet reads safetensors (convert them with transformers' save_pretrained(safe_serialization=True))", c.Dir)
		}
		return fmt.Errorf("%s: no model.safetensors, model.safetensors.index.json or model-*-of-*.safetensors", c.Dir)
	}
	for i := 1; i <= total; i++ {
		if !seen[i] {
			return fmt.Errorf("%s: shard model-%05d-of-%05d.safetensors is missing", c.Dir, i, total)
		}
	}
	sort.Strings(files)
	return c.addShards(files)
}

// openIndexed opens the files named by an index's weight_map and checks
// that each listed tensor is in the file the index names.
func (c *Checkpoint) openIndexed(indexPath string, weightMap map[string]string) error {
	if len(weightMap) == 0 {
		return fmt.Errorf("%s: weight_map is empty", indexPath)
	}
	var files []string
	seen := map[string]bool{}
	for _, f := range weightMap {
		if f == "" || filepath.Base(f) != f {
			return fmt.Errorf("%s: weight_map names file %q, which is not a plain file name", indexPath, f)
		}
		if !seen[f] {
			seen[f] = true
			files = append(files, f)
		}
	}
	sort.Strings(files)
	paths := make([]string, len(files))
	for i, f := range files {
		paths[i] = filepath.Join(c.Dir, f)
		if _, err := os.Stat(paths[i]); err != nil {
			return fmt.Errorf("%s: lists shard %s, which cannot be opened: %w", indexPath, f, err)
		}
	}
	if err := c.addShards(paths); err != nil {
		return err
	}
	for name, f := range weightMap {
		t, ok := c.byName[name]
		if !ok {
			return fmt.Errorf("%s: lists tensor %q in %s, but no file has it", indexPath, name, f)
		}
		if t.File != f {
			return fmt.Errorf("%s: lists tensor %q in %s, but it is in %s", indexPath, name, f, t.File)
		}
	}
	return nil
}

func (c *Checkpoint) addShards(paths []string) error {
	for _, p := range paths {
		s, err := openShard(p)
		if err != nil {
			return err
		}
		c.shards = append(c.shards, s)
		for _, t := range s.tensors {
			if prev, dup := c.byName[t.Name]; dup {
				return fmt.Errorf("%s: tensor %q is in both %s and %s", c.Dir, t.Name, prev.File, t.File)
			}
			c.byName[t.Name] = t
			c.tensors = append(c.tensors, t)
		}
	}
	return nil
}
