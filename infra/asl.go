package main

import (
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
)

// maxInlineMapConcurrency is Step Functions' limit on concurrent iterations
// of an inline Map; MaxConcurrency 0 means "as many as allowed".
const maxInlineMapConcurrency = 40

// placeholder matches a DefinitionSubstitutions reference in the ASL text.
var placeholder = regexp.MustCompile(`\$\{([^}]*)\}`)

// substitutionKey is the ASL placeholder naming a stage's function ARN:
// "split" -> "SplitFunctionArn".
func substitutionKey(stage string) string {
	return strings.ToUpper(stage[:1]) + stage[1:] + "FunctionArn"
}

// definition is the ASL file as read at synth.
type definition struct {
	text string
	// mapConcurrency is the largest MaxConcurrency of any Map state: how many
	// compress invocations one job can have in flight.
	mapConcurrency int
}

// loadDefinition reads the ASL file and refuses one that is not JSON or
// that references a placeholder this stack does not substitute, so a typo
// fails the synth rather than the deployment.
func loadDefinition(path string) (definition, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return definition{}, fmt.Errorf("state machine definition: %w", err)
	}
	var root aslStates
	if err := json.Unmarshal(b, &root); err != nil {
		return definition{}, fmt.Errorf("state machine definition %s: %w", path, err)
	}
	known := make([]string, len(Stages))
	for i, s := range Stages {
		known[i] = substitutionKey(s)
	}
	for _, m := range placeholder.FindAllStringSubmatch(string(b), -1) {
		if !slices.Contains(known, m[1]) {
			return definition{}, fmt.Errorf("state machine definition %s: placeholder %s is not one of %v", path, m[0], known)
		}
	}
	return definition{text: string(b), mapConcurrency: root.mapConcurrency()}, nil
}

// aslStates is the part of an ASL document (or of a Map's ItemProcessor)
// that mapConcurrency needs.
type aslStates struct {
	States map[string]struct {
		Type           string
		MaxConcurrency *int
		ItemProcessor  *aslStates
		Iterator       *aslStates
		Branches       []aslStates
	}
}

func (a aslStates) mapConcurrency() int {
	n := 0
	for _, s := range a.States {
		if s.Type == "Map" {
			c := maxInlineMapConcurrency
			if s.MaxConcurrency != nil && *s.MaxConcurrency > 0 {
				c = min(*s.MaxConcurrency, maxInlineMapConcurrency)
			}
			n = max(n, c)
		}
		for _, inner := range append([]*aslStates{s.ItemProcessor, s.Iterator}, ptrs(s.Branches)...) {
			if inner != nil {
				n = max(n, inner.mapConcurrency())
			}
		}
	}
	return n
}

func ptrs[T any](s []T) []*T {
	p := make([]*T, len(s))
	for i := range s {
		p[i] = &s[i]
	}
	return p
}
