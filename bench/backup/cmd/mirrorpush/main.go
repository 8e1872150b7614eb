// Command mirrorpush pushes a backup repository to an S3 mirror once and
// prints how long it took and what it sent (bench/backup/mirror.sh runs it
// next to rclone). Credentials: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/phoenixvc/phoenix/internal/backup/mirror"
)

func main() {
	repo := flag.String("repo", "", "backup repository folder")
	url := flag.String("url", "", "mirror, s3://bucket/prefix")
	endpoint := flag.String("endpoint", "", "S3 API URL")
	flag.Parse()
	m, err := mirror.New(mirror.Config{URL: *url, Endpoint: *endpoint,
		AccessKey: os.Getenv("AWS_ACCESS_KEY_ID"), SecretKey: os.Getenv("AWS_SECRET_ACCESS_KEY")})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	start := time.Now()
	rep, err := m.Push(context.Background(), *repo)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	out, _ := json.Marshal(map[string]any{"seconds": time.Since(start).Seconds(), "report": rep})
	fmt.Println(string(out))
}
