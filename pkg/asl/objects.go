package asl

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
)

// Objects stores the S3 objects a DISTRIBUTED Map reads its items from
// (ItemReader) and writes its results to (ResultWriter), so the engine
// itself holds no storage. GetObject's and PutObject's errors fail the Map
// with States.ItemReaderFailed and States.ResultWriterFailed.
type Objects interface {
	GetObject(ctx context.Context, bucket, key string) ([]byte, error)
	PutObject(ctx context.Context, bucket, key string, data []byte) error
}

// Error names of a DISTRIBUTED Map that cannot read its items or write its
// results (https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html).
const (
	ErrItemReaderFailed   = "States.ItemReaderFailed"
	ErrResultWriterFailed = "States.ResultWriterFailed"
)

const (
	s3GetObject = "arn:aws:states:::s3:getObject"
	s3PutObject = "arn:aws:states:::s3:putObject"
	// maxReaderItems is the largest MaxItems AWS accepts
	// (input-output-itemreader.html, "ReaderConfig").
	maxReaderItems = 100_000_000
)

// itemReader is an ItemReader reading one S3 object of JSON or CSV
// (https://docs.aws.amazon.com/step-functions/latest/dg/input-output-itemreader.html).
type itemReader struct {
	params   *tmpl  // Parameters (JSONPath): Bucket, Key
	args     *jtmpl // Arguments (JSONata)
	csv      bool   // InputType CSV, else JSON
	headers  []string
	maxItems *numField // MaxItems[Path], nil: no limit
}

// resultWriter is a ResultWriter exporting the Map Run's results to S3
// (https://docs.aws.amazon.com/step-functions/latest/dg/input-output-resultwriter.html).
type resultWriter struct {
	params *tmpl  // Parameters (JSONPath): Bucket, Prefix
	args   *jtmpl // Arguments (JSONata)
}

// s3Params parses the Parameters (JSONPath) or Arguments (JSONata) of an
// ItemReader or ResultWriter, whose only fields are want.
func s3Params(m map[string]any, jsonata bool, want []string) (*tmpl, *jtmpl, error) {
	field, other := "Parameters", "Arguments"
	if jsonata {
		field, other = other, field
	}
	if _, ok := m[other]; ok {
		return nil, nil, fmt.Errorf("%s belongs to the other query language; give %s", other, field)
	}
	v, ok := m[field]
	if !ok {
		return nil, nil, fmt.Errorf("%s with %s is required", field, strings.Join(want, " and "))
	}
	obj, isObj := v.(map[string]any)
	if !isObj && !jsonata {
		return nil, nil, fmt.Errorf("%s must be an object", field)
	}
	if isObj {
		for k := range obj {
			if !slices.Contains(want, strings.TrimSuffix(k, ".$")) || (jsonata && strings.HasSuffix(k, ".$")) {
				return nil, nil, fmt.Errorf("%s: unknown field %q (the fields are %s)", field, k, strings.Join(want, ", "))
			}
		}
	}
	if jsonata {
		j, err := parseJtmpl(v)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %v", field, err)
		}
		return nil, j, nil
	}
	t, err := parseTemplate(v)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %v", field, err)
	}
	return t, nil, nil
}

func parseItemReader(v any, jsonata bool, bad badFunc) (*itemReader, error) {
	const f = "ItemReader"
	m, ok := v.(map[string]any)
	if !ok {
		return nil, bad(f, "must be an object")
	}
	for k := range m {
		switch k {
		case "Resource", "Parameters", "Arguments", "ReaderConfig":
		default:
			return nil, bad(f, "unknown ItemReader field %q", k)
		}
	}
	if res, _ := m["Resource"].(string); res != s3GetObject {
		return nil, bad(f, "ItemReader Resource %s is not supported: only %q (a JSON or CSV object) is", marshalString(m["Resource"]), s3GetObject)
	}
	r := &itemReader{}
	var err error
	if r.params, r.args, err = s3Params(m, jsonata, []string{"Bucket", "Key"}); err != nil {
		return nil, bad(f, "%v", err)
	}
	cfg, ok := m["ReaderConfig"].(map[string]any)
	if !ok {
		return nil, bad(f, "ReaderConfig with InputType JSON or CSV is required for %s", s3GetObject)
	}
	inner := func(field, format string, a ...any) error { return bad(f+".ReaderConfig."+field, format, a...) }
	if r.maxItems, err = parseNumField(cfg, "MaxItems", numRule{integer: true, min: 1, max: maxReaderItems}, jsonata, inner); err != nil {
		return nil, err
	}
	for _, k := range sortedKeys(cfg) {
		x := cfg[k]
		switch k {
		case "InputType":
			switch x {
			case "JSON":
			case "CSV":
				r.csv = true
			default:
				return nil, bad(f, "ReaderConfig InputType %s is not supported: give JSON or CSV", marshalString(x))
			}
		case "CSVHeaderLocation", "CSVHeaders":
		case "MaxItems", "MaxItemsPath":
		default:
			return nil, bad(f, "ReaderConfig field %q is not supported", k)
		}
	}
	if _, ok := cfg["InputType"]; !ok {
		return nil, bad(f, "ReaderConfig InputType (JSON or CSV) is required")
	}
	loc, hasLoc := cfg["CSVHeaderLocation"]
	hs, hasHs := cfg["CSVHeaders"]
	switch {
	case !r.csv && (hasLoc || hasHs):
		return nil, bad(f, "CSVHeaderLocation and CSVHeaders apply to InputType CSV only")
	case !r.csv:
	case loc == "FIRST_ROW" || !hasLoc:
		// FIRST_ROW is the default (input-output-itemreader.html).
		if hasHs {
			return nil, bad(f, "CSVHeaders is allowed only with CSVHeaderLocation GIVEN")
		}
	case loc == "GIVEN":
		arr, isArr := hs.([]any)
		if !isArr || len(arr) == 0 {
			return nil, bad(f, "CSVHeaderLocation GIVEN needs CSVHeaders, a non-empty array of strings")
		}
		for _, h := range arr {
			s, isStr := h.(string)
			if !isStr {
				return nil, bad(f, "CSVHeaders must be strings")
			}
			r.headers = append(r.headers, s)
		}
	default:
		return nil, bad(f, "CSVHeaderLocation must be FIRST_ROW or GIVEN, got %s", marshalString(loc))
	}
	return r, nil
}

func parseResultWriter(v any, jsonata bool, bad badFunc) (*resultWriter, error) {
	const f = "ResultWriter"
	m, ok := v.(map[string]any)
	if !ok {
		return nil, bad(f, "must be an object")
	}
	for k := range m {
		switch k {
		case "Resource", "Parameters", "Arguments":
		default:
			return nil, bad(f, "ResultWriter field %q is not supported", k)
		}
	}
	if res, _ := m["Resource"].(string); res != s3PutObject {
		return nil, bad(f, "ResultWriter Resource %s is not supported: only %q is", marshalString(m["Resource"]), s3PutObject)
	}
	w := &resultWriter{}
	var err error
	if w.params, w.args, err = s3Params(m, jsonata, []string{"Bucket", "Prefix"}); err != nil {
		return nil, bad(f, "%v", err)
	}
	return w, nil
}

// s3Location evaluates Parameters or Arguments into their string fields.
func s3Location(st *state, field string, params *tmpl, args *jtmpl, e *env, want ...string) ([]string, error) {
	var v any
	var err error
	if params != nil {
		v, err = params.eval(e)
	} else {
		v, err = args.eval(e, field)
	}
	if err != nil {
		return nil, err
	}
	m, _ := v.(map[string]any)
	out := make([]string, len(want))
	for i, k := range want {
		s, ok := m[k].(string)
		if !ok || (k == "Bucket" || k == "Key") && s == "" {
			return nil, runtimeErr("An error occurred while executing the state '%s'. The %s's %s must be a non-empty string, got %s", st.name, field, k, typeName(m[k]))
		}
		out[i] = s
	}
	return out, nil
}

// readItems reads the items of a DISTRIBUTED Map from its ItemReader's
// object: the elements of a JSON array, or the rows of a CSV file as
// objects of strings keyed by the header, at most MaxItems of them.
// e evaluates Parameters or Arguments and MaxItems; its input is the
// Map's effective input, which MaxItemsPath selects from.
func (x *exec) readItems(ctx context.Context, st *state, e *env) ([]any, error) {
	r := st.reader
	loc, err := s3Location(st, "ItemReader", r.params, r.args, e, "Bucket", "Key")
	if err != nil {
		return nil, err
	}
	maxItems, err := r.maxItems.intValue(st, e, e.input)
	if err != nil {
		return nil, err
	}
	fail := func(format string, a ...any) error {
		return &failure{Name: ErrItemReaderFailed, Cause: fmt.Sprintf("s3://%s/%s: ", loc[0], loc[1]) + fmt.Sprintf(format, a...)}
	}
	data, err := x.objects.GetObject(ctx, loc[0], loc[1])
	if err != nil {
		return nil, fail("%v", err)
	}
	var items []any
	if !r.csv {
		v, err := decode(data)
		if err != nil {
			return nil, fail("the object is not JSON: %v", err)
		}
		arr, ok := v.([]any)
		if !ok {
			return nil, fail("the object must be a JSON array, got %s", typeName(v))
		}
		items = arr
	} else {
		cr := csv.NewReader(bytes.NewReader(data))
		cr.FieldsPerRecord = -1
		headers := r.headers
		for {
			rec, err := cr.Read()
			if err != nil {
				if errors.Is(err, io.EOF) {
					break
				}
				return nil, fail("the object is not CSV: %v", err)
			}
			if headers == nil {
				headers = rec
				continue
			}
			if len(rec) != len(headers) {
				return nil, fail("row %d has %d fields, the header %d", len(items)+1, len(rec), len(headers))
			}
			row := make(map[string]any, len(rec))
			for i, h := range headers {
				row[h] = rec[i]
			}
			items = append(items, row)
			if maxItems > 0 && int64(len(items)) >= maxItems {
				break
			}
		}
		if items == nil {
			items = []any{}
		}
	}
	if maxItems > 0 && int64(len(items)) > maxItems {
		items = items[:maxItems]
	}
	return items, nil
}

// writeResults exports the children's results as AWS does: under
// Prefix/<Map Run id>/, SUCCEEDED_0.json, FAILED_0.json and PENDING_0.json
// (each written when it has an entry) and manifest.json listing them; the
// Map's output is then where the manifest is.
func (x *exec) writeResults(ctx context.Context, st *state, raw, eff any, c *ctxObj, vars *varScope, runArn string, groups [3][]any) (any, error) {
	w := st.writer
	in := eff
	if st.jsonata {
		in = raw
	}
	loc, err := s3Location(st, "ResultWriter", w.params, w.args, &env{input: in, ctx: c, vars: vars}, "Bucket", "Prefix")
	if err != nil {
		return nil, err
	}
	bucket, prefix := loc[0], strings.TrimSuffix(loc[1], "/")
	dir := runArn[strings.LastIndexByte(runArn, ':')+1:]
	if prefix != "" {
		dir = prefix + "/" + dir
	}
	put := func(key string, data []byte) error {
		if err := x.objects.PutObject(ctx, bucket, key, data); err != nil {
			return &failure{Name: ErrResultWriterFailed, Cause: fmt.Sprintf("s3://%s/%s: %v", bucket, key, err)}
		}
		return nil
	}
	files := map[string]any{}
	for i, status := range []string{"SUCCEEDED", "FAILED", "PENDING"} {
		list := []any{}
		if len(groups[i]) > 0 {
			key := fmt.Sprintf("%s/%s_0.json", dir, status)
			data := marshal(groups[i])
			if err := put(key, data); err != nil {
				return nil, err
			}
			list = append(list, map[string]any{"Key": key, "Size": intNumber(int64(len(data)))})
		}
		files[status] = list
	}
	key := dir + "/manifest.json"
	manifest := map[string]any{"DestinationBucket": bucket, "MapRunArn": runArn, "ResultFiles": files}
	if err := put(key, marshal(manifest)); err != nil {
		return nil, err
	}
	return map[string]any{"MapRunArn": runArn, "ResultWriterDetails": map[string]any{"Bucket": bucket, "Key": key}}, nil
}

// UsesObjects reports whether a DISTRIBUTED Map of the machine reads its
// items from, or writes its results to, Options.Objects.
func (m *Machine) UsesObjects() bool { return m.hasS3 }
