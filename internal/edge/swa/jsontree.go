package swa

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
)

// jnode is a JSON value with the byte offset where it starts, so that
// validation can name file:line:col for every problem.
type jnode struct {
	kind  byte // 'o' object, 'a' array, 's' string, 'n' number, 'b' bool, 'z' null
	off   int
	mems  []jmember
	elems []*jnode
	str   string
	num   json.Number
	b     bool
}

type jmember struct {
	key    string
	keyOff int
	val    *jnode
}

func (n *jnode) kindName() string {
	switch n.kind {
	case 'o':
		return "an object"
	case 'a':
		return "an array"
	case 's':
		return "a string"
	case 'n':
		return "a number"
	case 'b':
		return "a boolean"
	}
	return "null"
}

// jparser builds a jnode tree with json.Decoder, recording offsets.
type jparser struct {
	data []byte
	dec  *json.Decoder
}

// maxDepth bounds nesting so hostile input cannot exhaust the stack.
const maxDepth = 64

// parseTree parses data into a tree. On a syntax error it returns the byte
// offset of the error.
func parseTree(data []byte) (*jnode, int, error) {
	p := &jparser{data: data, dec: json.NewDecoder(bytes.NewReader(data))}
	p.dec.UseNumber()
	root, err := p.value(0)
	if err != nil {
		return nil, p.errOffset(err), err
	}
	off := p.start()
	if _, err := p.dec.Token(); err != io.EOF {
		return nil, off, errors.New("unexpected data after the top-level value")
	}
	return root, 0, nil
}

func (p *jparser) errOffset(err error) int {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return int(se.Offset)
	}
	var ue *json.UnmarshalTypeError
	if errors.As(err, &ue) {
		return int(ue.Offset)
	}
	return int(p.dec.InputOffset())
}

// start returns the offset of the next token: the decoder's position
// skipping whitespace and the separators ',' and ':'.
func (p *jparser) start() int {
	i := int(p.dec.InputOffset())
	for i < len(p.data) {
		switch p.data[i] {
		case ' ', '\t', '\r', '\n', ',', ':':
			i++
			continue
		}
		break
	}
	return i
}

func (p *jparser) value(depth int) (*jnode, error) {
	if depth > maxDepth {
		return nil, fmt.Errorf("nesting deeper than %d levels", maxDepth)
	}
	off := p.start()
	tok, err := p.dec.Token()
	if err == io.EOF {
		return nil, io.ErrUnexpectedEOF
	}
	if err != nil {
		return nil, err
	}
	n := &jnode{off: off}
	switch t := tok.(type) {
	case json.Delim:
		if t == '{' {
			n.kind = 'o'
			return n, p.object(n, depth)
		}
		n.kind = 'a'
		return n, p.array(n, depth)
	case string:
		n.kind, n.str = 's', t
	case json.Number:
		n.kind, n.num = 'n', t
	case bool:
		n.kind, n.b = 'b', t
	default:
		n.kind = 'z'
	}
	return n, nil
}

func (p *jparser) object(n *jnode, depth int) error {
	for p.dec.More() {
		koff := p.start()
		tok, err := p.dec.Token()
		if err != nil {
			return unclosed(n, err)
		}
		key, _ := tok.(string)
		v, err := p.value(depth + 1)
		if err != nil {
			return unclosed(n, err)
		}
		n.mems = append(n.mems, jmember{key: key, keyOff: koff, val: v})
	}
	_, err := p.dec.Token() // '}'
	return unclosed(n, err)
}

func (p *jparser) array(n *jnode, depth int) error {
	for p.dec.More() {
		v, err := p.value(depth + 1)
		if err != nil {
			return unclosed(n, err)
		}
		n.elems = append(n.elems, v)
	}
	_, err := p.dec.Token() // ']'
	return unclosed(n, err)
}

// errUnclosed: the data ends inside the object or array that starts at off
// (the innermost one, for a truncated file).
type errUnclosed struct {
	off  int
	kind byte // 'o' or 'a'
}

func (e *errUnclosed) Error() string {
	if e.kind == 'o' {
		return "the file ends inside an object: a '}' is missing"
	}
	return "the file ends inside an array: a ']' is missing"
}

// unclosed turns the end of the data met inside n into an errUnclosed for
// n, unless an inner object or array already claimed it; other errors pass.
func unclosed(n *jnode, err error) error {
	var inner *errUnclosed
	if errors.As(err, &inner) || !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
		return err
	}
	return &errUnclosed{off: n.off, kind: n.kind}
}

// lineIndex maps byte offsets to 1-based line and column.
type lineIndex []int

func newLineIndex(data []byte) lineIndex {
	li := lineIndex{0}
	for i, c := range data {
		if c == '\n' {
			li = append(li, i+1)
		}
	}
	return li
}

func (li lineIndex) pos(off int) (line, col int) {
	i := sort.Search(len(li), func(i int) bool { return li[i] > off }) - 1
	if i < 0 {
		i = 0
	}
	return i + 1, off - li[i] + 1
}
