package artifact

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// MaxManifestSize bounds the manifest bytes Decode and Import accept.
const MaxManifestSize = 256 << 20

// Decode parses and validates a manifest. It is strict: unknown fields,
// trailing data, a wrong version and any invalid file are errors. Files are
// sorted by path if they were not. Warnings (see Validate) are returned in
// m.Warnings.
func Decode(data []byte) (*Manifest, error) {
	if len(data) > MaxManifestSize {
		return nil, fmt.Errorf("manifest is %d bytes, at most %d allowed", len(data), MaxManifestSize)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var m Manifest
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("decode manifest: %w", describeJSON(data, err))
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("decode manifest: unexpected data after the manifest object at byte %d", dec.InputOffset())
	}
	if m.Files == nil {
		return nil, errors.New("decode manifest: missing \"files\" array")
	}
	m.Sort()
	w, err := m.Validate()
	if err != nil {
		return nil, err
	}
	m.Warnings = w
	return &m, nil
}

// ReadManifest reads and decodes a manifest of at most MaxManifestSize bytes.
func ReadManifest(r io.Reader) (*Manifest, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxManifestSize+1))
	if err != nil {
		return nil, fmt.Errorf("read manifest: %w", err)
	}
	return Decode(data)
}

// describeJSON adds the line and column to a JSON syntax or type error.
func describeJSON(data []byte, err error) error {
	var off int64 = -1
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		off = se.Offset
	case errors.As(err, &te):
		off = te.Offset
	}
	if off < 0 || off > int64(len(data)) {
		return err
	}
	line := 1 + bytes.Count(data[:off], []byte("\n"))
	col := off - int64(bytes.LastIndexByte(data[:off], '\n'))
	return fmt.Errorf("line %d, column %d: %w", line, col, err)
}
