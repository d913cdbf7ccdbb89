package hub_test

import (
	"context"
	"fmt"
	"log"

	"github.com/bitnet-go/bitnet/hub"
)

// Download a snapshot into the huggingface_hub cache, configured from the
// environment (HF_ENDPOINT, HF_HOME, HF_HUB_CACHE, HF_TOKEN, HF_HUB_OFFLINE).
func ExampleClient_Download() {
	c := hub.NewFromEnv()
	dir, err := c.Download(context.Background(), "microsoft/BitNet-b1.58-2B-4T", hub.DownloadOptions{
		Include: []string{"*.json", "*.safetensors"},
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(dir) // .../models--microsoft--BitNet-b1.58-2B-4T/snapshots/<commit>
}

// What `bitnet run --hf REPO` does: take the GGUF of a GGUF repository, or
// convert a checkpoint once and keep the result in the cache.
func ExampleClient_FetchModel() {
	ctx := context.Background()
	c := hub.NewFromEnv()
	m, err := c.FetchModel(ctx, "microsoft/BitNet-b1.58-2B-4T-gguf", hub.ModelOptions{})
	if err != nil {
		log.Fatal(err)
	}
	path := m.GGUF
	if !m.IsGGUF() {
		path, err = m.Converted(ctx, "ggml-model-i2_s.gguf", func(ctx context.Context, tmp string) error {
			return fmt.Errorf("call convert.Convert(ctx, %s, %s, ...) here", m.Dir, tmp)
		})
		if err != nil {
			log.Fatal(err)
		}
	}
	fmt.Println(path)
}
