package asl

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
)

// Values are the decoded JSON model of encoding/json with UseNumber:
// nil, bool, json.Number, string, []any, map[string]any. They are treated as
// immutable once decoded: every transformation copies what it changes, so one
// value can be shared by concurrent Map iterations.

// decode parses one JSON document, keeping numbers as json.Number so that
// they round-trip unchanged.
func decode(data []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if dec.More() {
		return nil, fmt.Errorf("unexpected data after JSON value")
	}
	// A second Decode must report EOF; anything else is trailing garbage.
	if _, err := dec.Token(); err == nil {
		return nil, fmt.Errorf("unexpected data after JSON value")
	}
	return v, nil
}

// marshal encodes v compactly without HTML escaping, as Step Functions does.
func marshal(v any) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		// Values come from decode or from this package, so they always encode;
		// an invalid json.Number is the only way here.
		return []byte("null")
	}
	b := buf.Bytes()
	return b[:len(b)-1]
}

func marshalString(v any) string { return string(marshal(v)) }

func intNumber(n int64) json.Number { return json.Number(strconv.FormatInt(n, 10)) }

// toFloat reports the numeric value of v if it is a JSON number.
func toFloat(v any) (float64, bool) {
	n, ok := v.(json.Number)
	if !ok {
		return 0, false
	}
	f, err := strconv.ParseFloat(string(n), 64)
	if err != nil {
		return 0, false
	}
	return f, true
}

// toInt reports the value of v if it is a JSON number with an integral value.
func toInt(v any) (int64, bool) {
	n, ok := v.(json.Number)
	if !ok {
		return 0, false
	}
	if i, err := strconv.ParseInt(string(n), 10, 64); err == nil {
		return i, true
	}
	f, err := strconv.ParseFloat(string(n), 64)
	if err != nil || f != math.Trunc(f) || math.Abs(f) > 1<<53 {
		return 0, false
	}
	return int64(f), true
}

// jsonEqual compares two values structurally, numbers by numeric value.
func jsonEqual(a, b any) bool {
	switch a := a.(type) {
	case nil:
		return b == nil
	case bool:
		bb, ok := b.(bool)
		return ok && a == bb
	case string:
		bs, ok := b.(string)
		return ok && a == bs
	case json.Number:
		fa, ok1 := toFloat(a)
		fb, ok2 := toFloat(b)
		return ok1 && ok2 && fa == fb
	case []any:
		bb, ok := b.([]any)
		if !ok || len(a) != len(bb) {
			return false
		}
		for i := range a {
			if !jsonEqual(a[i], bb[i]) {
				return false
			}
		}
		return true
	case map[string]any:
		bm, ok := b.(map[string]any)
		if !ok || len(a) != len(bm) {
			return false
		}
		for k, v := range a {
			w, ok := bm[k]
			if !ok || !jsonEqual(v, w) {
				return false
			}
		}
		return true
	}
	return false
}

// typeName names the JSON type of v for error messages.
func typeName(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case json.Number:
		return "number"
	case string:
		return "string"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return fmt.Sprintf("%T", v)
}
