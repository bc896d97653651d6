package wire

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"unicode/utf8"
)

// Validation of answers as JSON: what an answer must be before any field
// of it is read. Redaction, which reads any answer however broken, is in
// scan.go and redact.go.

// ErrInvalidUTF8 is the cause when an answer is not valid UTF-8.
var ErrInvalidUTF8 = errors.New("answer is not valid UTF-8")

// DuplicateKeyError is the cause when an answer names one key twice in one
// object. encoding/json keeps the last value and matches keys without
// regard to case, while other parsers (a proxy, a logging gateway) may keep
// the first: such an answer means different things to different readers,
// so it is refused rather than guessed at.
type DuplicateKeyError struct {
	Key string // the key's second spelling, as the answer wrote it
}

func (e *DuplicateKeyError) Error() string {
	return fmt.Sprintf("key %.40q appears twice in one object", e.Key)
}

// Unmarshal is json.Unmarshal for answers from the network: it also
// refuses an answer that is not valid UTF-8 ([ErrInvalidUTF8]) or that
// names a key twice in one object (in any mix of case, as encoding/json
// matches them), returning a *DuplicateKeyError. A struct of [String],
// [Int] and pointers to such structs is decoded in one pass when the
// answer allows it (see fields.go), with the same result.
func Unmarshal(body []byte, v any) error {
	if !utf8.Valid(body) {
		// encoding/json would read invalid bytes as U+FFFD: a token that is
		// not the one the server sent.
		return ErrInvalidUTF8
	}
	if decodeFields(body, v) { // no duplicate key either, or it would not have
		return nil
	}
	if err := json.Unmarshal(body, v); err != nil {
		return err
	}
	if dup, ok := dupKey(body); ok {
		return &DuplicateKeyError{Key: dup}
	}
	return nil
}

// errDuplicate reports whether err is one of Unmarshal's own refusals
// (a *DuplicateKeyError or ErrInvalidUTF8), whose text quotes no value.
func errDuplicate(err error) bool {
	var de *DuplicateKeyError
	return errors.As(err, &de) || errors.Is(err, ErrInvalidUTF8)
}

// ScrubJSONError keeps a JSON error's meaning but never the bytes of the
// body it quotes (a body may hold a token).
func ScrubJSONError(err error) error {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errDuplicate(err):
		return err
	case errors.As(err, &se):
		return fmt.Errorf("invalid JSON at byte %d", se.Offset)
	case errors.As(err, &te):
		return fmt.Errorf("field %q has the wrong type (%s)", te.Field, te.Value)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return errors.New("JSON cut short")
	}
	return errors.New("invalid JSON")
}

// DecodeJSON is json.Unmarshal, with its result, faster for the structs
// of this module (see fields.go). Unlike [Unmarshal] it refuses nothing
// that encoding/json accepts: it decodes what a store wrote, not what the
// network sent.
func DecodeJSON(data []byte, v any) error {
	// encoding/json reads invalid UTF-8 as U+FFFD, which the fast path
	// does not do: such data takes encoding/json's way.
	if utf8.Valid(data) && decodeFields(data, v) {
		return nil
	}
	return json.Unmarshal(data, v)
}
