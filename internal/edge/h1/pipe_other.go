//go:build !linux

package h1

import (
	"errors"
	"os"
)

// ErrPipeBudget is NewFilePipe's error when the file is larger than a
// FilePipe holds or the FilePipes' budget is spent.
var ErrPipeBudget = errors.New("h1: file pipe budget spent")

// FilePipe is Linux's tee/splice answer path (pipe_linux.go); elsewhere
// there is none and answers use the file.
type FilePipe struct{ n int64 }

// NewFilePipe is unsupported off Linux.
func NewFilePipe(*os.File, int64) (*FilePipe, error) { return nil, errors.ErrUnsupported }

// Len is the length of the file the pipe holds.
func (p *FilePipe) Len() int64 { return p.n }

// PipeBytes is 0 off Linux: there are no FilePipes.
func PipeBytes() int64 { return 0 }

// Close does nothing off Linux.
func (p *FilePipe) Close() error { return nil }
