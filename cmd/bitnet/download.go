package main

import (
	"context"
	"fmt"
	"path"
	"strings"

	"github.com/bitnet-go/bitnet/convert"
	"github.com/bitnet-go/bitnet/hub"
	"github.com/spf13/cobra"
)

func init() { subcommands = append(subcommands, newDownloadCmd) }

func newDownloadCmd() *cobra.Command {
	var (
		opts     hub.DownloadOptions
		cacheDir string
	)
	cmd := &cobra.Command{
		Use:   "download REPO",
		Short: "Download a model repository from the Hugging Face Hub",
		Long: `download fetches a snapshot of a Hugging Face Hub model repository into the
huggingface_hub cache (or a plain directory with --local-dir) and prints its path.

The cache is the one Python tools use, so files they downloaded are reused and
ours are visible to them. Interrupted downloads resume where they stopped; every
file is checked against the size and hash the Hub announces.

Environment: HF_ENDPOINT (default https://huggingface.co), HF_HOME, HF_HUB_CACHE,
HF_TOKEN (else $HF_HOME/token) for private and gated repositories, HF_HUB_OFFLINE=1
to use only what is already cached.

--include and --exclude take huggingface_hub's glob patterns: '*' also matches
'/', and a pattern ending in '/' selects a whole directory.`,
		Example: `  bitnet download microsoft/BitNet-b1.58-2B-4T-gguf
  bitnet download microsoft/BitNet-b1.58-2B-4T --include '*.json' --include '*.safetensors'
  bitnet download microsoft/BitNet-b1.58-2B-4T-gguf --local-dir ./models/2B-4T`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c := newHubClient(cmd)
			if cacheDir != "" {
				c.CacheDir = cacheDir
			}
			var dir string
			err := interruptible(cmd, func(ctx context.Context) (err error) {
				dir, err = c.Download(ctx, args[0], opts)
				return err
			})
			if err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), dir)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.Revision, "revision", "main", "branch, tag, commit or refs/pr/N")
	f.StringArrayVar(&opts.Include, "include", nil, "download only files matching this glob (repeatable)")
	f.StringArrayVar(&opts.Exclude, "exclude", nil, "skip files matching this glob (repeatable)")
	f.StringVar(&opts.LocalDir, "local-dir", "", "put plain files in this directory instead of the cache")
	f.StringVar(&cacheDir, "cache-dir", "", "cache directory (default $HF_HUB_CACHE, else $HF_HOME/hub)")
	return cmd
}

// newHubClient is the Hub client every command uses: configured from the
// environment, with progress bars on the command's stderr (drawn only when
// that is a terminal).
func newHubClient(cmd *cobra.Command) *hub.Client {
	c := hub.NewFromEnv()
	if c.Progress != nil {
		c.Progress = cmd.ErrOrStderr()
	}
	c.UserAgent = "bitnet/" + buildVersion()
	return c
}

// resolveHFModel turns `--hf REPO` (for run, chat, convert) into a GGUF
// path. A GGUF repository gives its .gguf: the one matching pattern, or
// the I2_S one among several. A checkpoint repository is downloaded and
// converted to typeName ("i2_s", "tl2", ...) once; the conversion is kept
// in the cache beside the snapshot and reused by later runs.
func resolveHFModel(cmd *cobra.Command, repo, revision, pattern, typeName string) (path string, err error) {
	err = interruptible(cmd, func(ctx context.Context) error {
		path, err = fetchHFModel(ctx, cmd, repo, revision, pattern, typeName)
		return err
	})
	return path, err
}

// fetchHFModel is resolveHFModel under a context that stop signals cancel.
func fetchHFModel(ctx context.Context, cmd *cobra.Command, repo, revision, pattern, typeName string) (string, error) {
	c := newHubClient(cmd)
	m, err := c.FetchModel(ctx, repo, hub.ModelOptions{Revision: revision, Pattern: pattern})
	if err != nil {
		return "", err
	}
	if m.IsGGUF() {
		return m.GGUF, nil
	}
	typ, err := convert.ParseType(typeName)
	if err != nil {
		return "", err
	}
	name := "ggml-model-" + strings.ToLower(typ.String()) + ".gguf"
	return m.Converted(ctx, name, func(ctx context.Context, tmp string) error {
		fmt.Fprintf(cmd.ErrOrStderr(), "converting %s@%.12s to %s (once; kept in the cache)\n", repo, m.Commit, typ)
		return convert.Convert(ctx, m.Dir, tmp, convert.Options{Type: typ, Name: path.Base(repo)})
	})
}
