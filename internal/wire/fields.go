package wire

import (
	"encoding/json"
	"reflect"
	"strconv"
	"strings"
	"sync"
)

// The fast path of [Unmarshal]. encoding/json spent 3.0 of the 8.9 µs of
// a Douyin refresh (BenchmarkRefresh/net=none) decoding the envelope:
// validating the body in one pass, then decoding it in another, finding
// each field by reflection. An answer struct here is simple, a struct of
// fields like [String] and [Int] and pointers to such structs, so it is
// decoded in one pass over the body with the fields found through a
// table built once per type, as encoding/json builds its own.
//
// It is a fast path only: an answer it does not read in full (an escape,
// a key outside ASCII, an array, an object the struct does not name, null
// for an object, a value its field refuses, a key given twice, anything
// that is not JSON) is decoded again by encoding/json from a zero value,
// so the result and every error are encoding/json's.
// FuzzFieldsMatchJSON holds the two to the same answers.

// fastField is one field of a struct the fast path decodes.
type fastField struct {
	name  []byte // the JSON name, matched as encoding/json matches ASCII keys: letters folded
	index int    // in the struct
	kind  fastKind
	sub   *fastShape // for fastStruct, the struct the field points to
}

// fastKind is the type of a field, as the fast path decodes it.
type fastKind uint8

const (
	fastUnmarshaler fastKind = iota // a value whose pointer is a json.Unmarshaler: String, Int, time.Time
	fastStruct                      // a pointer to a struct of these fields
	fastString                      // string
	fastInt64                       // int64
	fastMap                         // map[string]any of strings, numbers, booleans and nulls
)

// fastShape lists the fields of a struct the fast path decodes.
type fastShape struct{ fields []fastField }

// shapes caches, per struct type, its *fastShape, or nil when the fast
// path does not decode it.
var shapes sync.Map

var unmarshalerType = reflect.TypeFor[json.Unmarshaler]()

// shapeOf returns the fast path's table for struct type t, or nil when a
// field of t is not of a [fastKind] or has no JSON name of its own in
// ASCII: encoding/json's rules for those are left to encoding/json.
func shapeOf(t reflect.Type) *fastShape {
	if s, ok := shapes.Load(t); ok {
		return s.(*fastShape)
	}
	shapes.Store(t, (*fastShape)(nil)) // until built: a type that holds itself is not decoded here
	s := &fastShape{}
	for i := range t.NumField() {
		f := t.Field(i)
		tag, opts, _ := strings.Cut(f.Tag.Get("json"), ",")
		name := []byte(tag)
		ok := f.IsExported() && !f.Anonymous && tag != "" && tag != "-" && isASCII(name)
		for _, g := range s.fields {
			ok = ok && !asciiFoldEqual(g.name, name)
		}
		ff := fastField{name: name, index: i}
		switch ft := f.Type; {
		case !ok || strings.Contains(opts, "string"):
			s = nil
		case ft.Kind() == reflect.Pointer && ft.Elem().Kind() == reflect.Struct && !ft.Implements(unmarshalerType):
			if ff.kind, ff.sub = fastStruct, shapeOf(ft.Elem()); ff.sub == nil {
				s = nil
			}
		case ft.Kind() != reflect.Pointer && ft.Kind() != reflect.Interface && reflect.PointerTo(ft).Implements(unmarshalerType):
			ff.kind = fastUnmarshaler
		case ft == reflect.TypeFor[string]():
			ff.kind = fastString
		case ft == reflect.TypeFor[int64]():
			ff.kind = fastInt64
		case ft == reflect.TypeFor[map[string]any]():
			ff.kind = fastMap
		default:
			s = nil
		}
		if s == nil {
			break
		}
		s.fields = append(s.fields, ff)
	}
	shapes.Store(t, s)
	return s
}

// decodeFields fills v from body, which is valid UTF-8, when v points to
// a zero struct of a shape the fast path decodes and body is an answer it
// reads in full. It reports whether it did; when it did not, v is zero
// again, for encoding/json to decode into.
func decodeFields(body []byte, v any) bool {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.IsNil() || rv.Elem().Kind() != reflect.Struct || !rv.Elem().IsZero() {
		return false
	}
	s := shapeOf(rv.Elem().Type())
	if s == nil {
		return false
	}
	if i, ok := fieldsObject(body, skipSpace(body, 0), rv.Elem(), s); ok && skipSpace(body, i) == len(body) {
		return true
	}
	rv.Elem().SetZero()
	return false
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// maxFastKeys bounds the keys of one object that the fast path compares
// with each other for duplicates; an object with more takes the slow path.
const maxFastKeys = 32

// fieldsObject decodes the object at b[i:] into v, a struct of shape s,
// and returns where the object ends.
func fieldsObject(b []byte, i int, v reflect.Value, s *fastShape) (int, bool) {
	if i >= len(b) || b[i] != '{' {
		return 0, false
	}
	var keys [maxFastKeys][]byte
	n := 0
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == '}' {
		return i + 1, true
	}
	for {
		end, ok := plainLiteral(b, i)
		if !ok {
			return 0, false
		}
		key := b[i+1 : end-1]
		if !isASCII(key) || n == maxFastKeys {
			return 0, false // encoding/json folds some non-ASCII runes to ASCII ones
		}
		for _, k := range keys[:n] {
			if asciiFoldEqual(k, key) {
				return 0, false
			}
		}
		keys[n], n = key, n+1
		if i = skipSpace(b, end); i >= len(b) || b[i] != ':' {
			return 0, false
		}
		i = skipSpace(b, i+1)
		var f *fastField
		for k := range s.fields {
			if asciiFoldEqual(s.fields[k].name, key) {
				f = &s.fields[k]
				break
			}
		}
		switch {
		case f == nil:
			if i, ok = scalar(b, i); !ok {
				return 0, false // an object or array the struct does not name: not walked here
			}
		case f.kind == fastStruct:
			p := v.Field(f.index)
			if i >= len(b) || b[i] != '{' {
				return 0, false // null or a scalar for an object
			}
			if p.IsNil() {
				p.Set(reflect.New(p.Type().Elem()))
			}
			if i, ok = fieldsObject(b, i, p.Elem(), f.sub); !ok {
				return 0, false
			}
		case f.kind == fastMap:
			if i, ok = mapObject(b, i, v.Field(f.index)); !ok {
				return 0, false
			}
		default:
			end, ok := scalar(b, i)
			if !ok || !setScalar(v.Field(f.index), f.kind, b[i:end]) {
				return 0, false
			}
			i = end
		}
		i = skipSpace(b, i)
		switch {
		case i < len(b) && b[i] == '}':
			return i + 1, true
		case i < len(b) && b[i] == ',':
			i = skipSpace(b, i+1)
		default:
			return 0, false
		}
	}
}

// setScalar stores the string, number, true, false or null lit in field
// v of kind k as encoding/json would, and reports whether it did; false
// where encoding/json would fail.
func setScalar(v reflect.Value, k fastKind, lit []byte) bool {
	switch {
	case k == fastUnmarshaler:
		return v.Addr().Interface().(json.Unmarshaler).UnmarshalJSON(lit) == nil
	case lit[0] == 'n':
		return true // null leaves a string or an int64 as it is
	case k == fastString && lit[0] == '"':
		v.SetString(string(lit[1 : len(lit)-1]))
		return true
	case k == fastInt64 && lit[0] != '"' && lit[0] != 't' && lit[0] != 'f':
		n, err := strconv.ParseInt(string(lit), 10, 64)
		v.SetInt(n)
		return err == nil
	}
	return false
}

// mapObject decodes the object at b[i:] into v, a nil map[string]any,
// and returns where the object ends. Its values are strings, numbers
// (float64), booleans and nulls; its keys any string without escapes.
func mapObject(b []byte, i int, v reflect.Value) (int, bool) {
	if i >= len(b) || b[i] != '{' {
		return 0, false
	}
	m := make(map[string]any, 8)
	i = skipSpace(b, i+1)
	for i < len(b) && b[i] != '}' {
		end, ok := plainLiteral(b, i)
		if !ok {
			return 0, false
		}
		key := string(b[i+1 : end-1])
		if _, dup := m[key]; dup {
			return 0, false
		}
		if i = skipSpace(b, end); i >= len(b) || b[i] != ':' {
			return 0, false
		}
		i = skipSpace(b, i+1)
		if end, ok = scalar(b, i); !ok {
			return 0, false
		}
		switch lit := b[i:end]; lit[0] {
		case '"':
			m[key] = string(lit[1 : len(lit)-1])
		case 't', 'f':
			m[key] = lit[0] == 't'
		case 'n':
			m[key] = nil
		default:
			f, err := strconv.ParseFloat(string(lit), 64)
			if err != nil {
				return 0, false
			}
			m[key] = f
		}
		switch i = skipSpace(b, end); {
		case i < len(b) && b[i] == ',':
			if i = skipSpace(b, i+1); i < len(b) && b[i] == '}' {
				return 0, false // a comma before the end
			}
		case i < len(b) && b[i] == '}':
		default:
			return 0, false
		}
	}
	if i >= len(b) {
		return 0, false
	}
	v.Set(reflect.ValueOf(m))
	return i + 1, true
}

// scalar returns where the string, number, true, false or null at b[i:]
// ends; strings only without escapes.
func scalar(b []byte, i int) (int, bool) {
	if i >= len(b) {
		return 0, false
	}
	switch c := b[i]; {
	case c == '"':
		return plainLiteral(b, i)
	case c == '-' || '0' <= c && c <= '9':
		return number(b, i)
	}
	for _, lit := range [...]string{"true", "false", "null"} {
		if len(b)-i >= len(lit) && string(b[i:i+len(lit)]) == lit {
			return i + len(lit), true
		}
	}
	return 0, false
}

// plainLiteral returns where the string at b[i:] ends when it has no
// escape and no control character (which JSON forbids unescaped).
func plainLiteral(b []byte, i int) (int, bool) {
	if i >= len(b) || b[i] != '"' {
		return 0, false
	}
	for j := i + 1; j < len(b); j++ {
		switch c := b[j]; {
		case c == '"':
			return j + 1, true
		case c == '\\' || c < 0x20:
			return 0, false
		}
	}
	return 0, false
}

// number returns where the JSON number at b[i:] ends, by RFC 8259's
// grammar: -? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?
func number(b []byte, i int) (int, bool) {
	digits := func(i int) int {
		for i < len(b) && '0' <= b[i] && b[i] <= '9' {
			i++
		}
		return i
	}
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && '1' <= b[i] && b[i] <= '9':
		i = digits(i)
	default:
		return 0, false
	}
	if i < len(b) && b[i] == '.' {
		j := digits(i + 1)
		if j == i+1 {
			return 0, false
		}
		i = j
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		j := digits(i)
		if j == i {
			return 0, false
		}
		i = j
	}
	return i, true
}
