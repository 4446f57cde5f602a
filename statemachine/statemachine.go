package statemachine

import (
	_ "embed"
	"fmt"
	"regexp"
	"strings"
)

// Definition is pipeline.asl.json as written, placeholders included.
//
//go:embed pipeline.asl.json
var Definition []byte

// Functions are the stage functions, in pipeline order, by their short name.
// Each is the Lambda "efspipe-<name>" in the cloud.
var Functions = []string{"ingest", "split", "compress", "checkpoint", "finalize"}

// Placeholder is the definition's substitution key for a function
// ("split" → "SplitFunctionArn").
func Placeholder(function string) string {
	return strings.ToUpper(function[:1]) + function[1:] + "FunctionArn"
}

// LocalARN is the function ARN the local engine uses for a stage. The
// account and region are dummies, as with other local AWS emulators.
func LocalARN(function string) string {
	return "arn:aws:lambda:us-east-1:000000000000:function:efspipe-" + function
}

var placeholderRe = regexp.MustCompile(`\$\{([A-Za-z0-9]+)\}`)

// Substitute replaces every ${Key} with values[Key], failing on a key it
// has no value for: a definition with a placeholder left in would fail only
// at run time, in the cloud.
func Substitute(def []byte, values map[string]string) ([]byte, error) {
	var missing []string
	out := placeholderRe.ReplaceAllFunc(def, func(m []byte) []byte {
		key := string(m[2 : len(m)-1])
		v, ok := values[key]
		if !ok {
			missing = append(missing, key)
			return m
		}
		return []byte(v)
	})
	if len(missing) > 0 {
		return nil, fmt.Errorf("definition placeholders without a value: %s", strings.Join(missing, ", "))
	}
	return out, nil
}

// Local is the definition with every stage bound to its LocalARN.
func Local() []byte {
	values := map[string]string{}
	for _, f := range Functions {
		values[Placeholder(f)] = LocalARN(f)
	}
	def, err := Substitute(Definition, values)
	if err != nil {
		panic(err) // the embedded file and Functions disagree: a build error
	}
	return def
}

// FunctionOf returns the stage a Lambda function name or ARN names:
// "efspipe-split", "arn:aws:lambda:…:function:efspipe-split" and
// "arn:aws:lambda:…:function:efspipe-split:$LATEST" all name "split".
func FunctionOf(nameOrARN string) (string, bool) {
	name := nameOrARN
	if strings.HasPrefix(name, "arn:") {
		parts := strings.Split(name, ":")
		if len(parts) < 7 || parts[2] != "lambda" || parts[5] != "function" {
			return "", false
		}
		name = parts[6]
	}
	for _, f := range Functions {
		if name == "efspipe-"+f || name == f {
			return f, true
		}
	}
	return "", false
}
