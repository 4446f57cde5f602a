package asl

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
)

// DefinitionError reports a definition that Parse refuses. State is empty
// for top-level fields; nested states are named by their own name.
type DefinitionError struct {
	State string // the state's name, "" for the top level
	Field string // the offending field, "" when the state as a whole is wrong
	Msg   string
}

func (e *DefinitionError) Error() string {
	var b strings.Builder
	b.WriteString("asl: ")
	if e.State != "" {
		fmt.Fprintf(&b, "state %q: ", e.State)
	}
	if e.Field != "" {
		fmt.Fprintf(&b, "field %q: ", e.Field)
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Machine is a parsed, validated state machine. It is immutable and safe
// for concurrent executions.
type Machine struct {
	root      *scope
	timeout   time.Duration // TimeoutSeconds of the machine, 0: none
	resources []string
	states    map[string]*state // every state by its (machine-unique) name
	branchOf  map[string]int    // state name -> index of the Parallel branch whose scope holds it
	hasTask   bool
	hasS3     bool // a DISTRIBUTED Map has an ItemReader or a ResultWriter
}

// A scope is a list of states with a start: the machine, a Map's
// ItemProcessor or a Parallel branch.
type scope struct {
	startAt string
	states  map[string]*state
}

type state struct {
	name, typ string
	next      string
	end       bool
	jsonata   bool      // the state's query language is JSONata
	assign    *assigner // Assign, nil: none

	// JSONata fields (https://docs.aws.amazon.com/step-functions/latest/dg/transforming-data.html)
	arguments, outputJ *jtmpl // Arguments, Output
	itemsJ, itemSelJ   *jtmpl // Map: Items, ItemSelector
	errorJ, causeJ     *jtmpl // Fail: Error, Cause
	tsJ                *jexpr // Wait: Timestamp as an expression

	inputPath, outputPath *path
	inputNull, outputNull bool // InputPath/OutputPath: null
	resultPath            *path
	resultNull            bool // ResultPath: null
	parameters, resultSel *tmpl
	result                any
	hasResult             bool

	// Task
	resource     string
	lambdaInvoke bool
	timeout      *numField // TimeoutSeconds[Path], nil: none
	retry        []retrier
	catch        []catcher

	// Choice
	choices     []*rule
	defaultNext string

	// Wait
	seconds       *numField // Seconds[Path]
	timestamp     time.Time
	hasTimestamp  bool
	timestampPath *path

	// Fail
	errName, cause       string
	errorExpr, causeExpr *expr

	// Map
	itemsPath *path
	itemSel   *tmpl
	processor *scope
	maxConc   *numField     // MaxConcurrency[Path], nil: no limit
	dist      *distributed  // Mode DISTRIBUTED, nil: INLINE
	reader    *itemReader   // ItemReader, nil: items from the input
	writer    *resultWriter // ResultWriter, nil: results are the output

	// Parallel
	branches []*scope
}

// expr is a path or an intrinsic function (ErrorPath, CausePath).
type expr struct {
	path *path
	call *call
}

type retrier struct {
	errorEquals []string
	interval    float64
	maxAttempts int
	backoff     float64
	maxDelay    float64 // 0: none
	fullJitter  bool
}

type catcher struct {
	errorEquals []string
	resultPath  *path
	resultNull  bool
	next        string
	assign      *assigner
	output      *jtmpl // JSONata Output, nil: $states.errorOutput
}

const lambdaInvokeARN = "arn:aws:states:::lambda:invoke"

var (
	commonFields = []string{"Type", "Comment", "QueryLanguage"}
	stateFields  = map[string][]string{
		"Pass":    {"Next", "End", "InputPath", "OutputPath", "ResultPath", "Parameters", "Result", "Assign"},
		"Task":    {"Next", "End", "InputPath", "OutputPath", "ResultPath", "Parameters", "ResultSelector", "Resource", "Retry", "Catch", "TimeoutSeconds", "TimeoutSecondsPath", "Assign"},
		"Choice":  {"InputPath", "OutputPath", "Choices", "Default", "Assign"},
		"Wait":    {"Next", "End", "InputPath", "OutputPath", "Seconds", "SecondsPath", "Timestamp", "TimestampPath", "Assign"},
		"Succeed": {"InputPath", "OutputPath"},
		"Fail":    {"Error", "ErrorPath", "Cause", "CausePath"},
		"Map": {"Next", "End", "InputPath", "OutputPath", "ResultPath", "Parameters", "ResultSelector", "Retry", "Catch", "ItemsPath", "ItemSelector", "ItemProcessor", "Iterator", "MaxConcurrency", "MaxConcurrencyPath", "Assign",
			"ItemBatcher", "ToleratedFailurePercentage", "ToleratedFailurePercentagePath", "ToleratedFailureCount", "ToleratedFailureCountPath", "Label",
			"ItemReader", "ResultWriter"},
		"Parallel": {"Next", "End", "InputPath", "OutputPath", "ResultPath", "Parameters", "ResultSelector", "Retry", "Catch", "Branches", "Assign"},
	}
	// jsonataFields are the fields of each state type in a JSONata state
	// (https://docs.aws.amazon.com/step-functions/latest/dg/transforming-data.html).
	jsonataFields = map[string][]string{
		"Pass":    {"Next", "End", "Output", "Assign"},
		"Task":    {"Next", "End", "Arguments", "Output", "Assign", "Resource", "Retry", "Catch", "TimeoutSeconds"},
		"Choice":  {"Choices", "Default", "Output", "Assign"},
		"Wait":    {"Next", "End", "Seconds", "Timestamp", "Output", "Assign"},
		"Succeed": {"Output"},
		"Fail":    {"Error", "Cause"},
		"Map": {"Next", "End", "Items", "ItemSelector", "ItemProcessor", "Output", "Assign", "Retry", "Catch", "MaxConcurrency",
			"ItemBatcher", "ToleratedFailurePercentage", "ToleratedFailureCount", "Label", "ItemReader", "ResultWriter"},
		"Parallel": {"Next", "End", "Arguments", "Output", "Assign", "Retry", "Catch", "Branches"},
	}
	// jsonPathOnly are the fields a JSONata state refuses, as Step Functions
	// does ("JSONata states don't support InputPath, Parameters,
	// ResultSelector, ResultPath and OutputPath").
	jsonPathOnly = []string{"InputPath", "OutputPath", "ResultPath", "Parameters", "ResultSelector", "Result",
		"ItemsPath", "Iterator", "SecondsPath", "TimestampPath", "TimeoutSecondsPath", "MaxConcurrencyPath", "ErrorPath", "CausePath",
		"ToleratedFailurePercentagePath", "ToleratedFailureCountPath"}
	// unsupported names fields that AWS accepts but this engine does not
	// implement, so a definition using them fails loudly instead of running
	// differently from the cloud.
	unsupported = map[string]string{
		"HeartbeatSeconds":     "task heartbeats are not supported",
		"HeartbeatSecondsPath": "task heartbeats are not supported",
		"Credentials":          "cross-account task credentials are not supported",
		"Arguments":            "Arguments belongs to the JSONata query language: set \"QueryLanguage\": \"JSONata\" on the state or the machine",
		"Output":               "Output belongs to the JSONata query language: set \"QueryLanguage\": \"JSONata\" on the state or the machine",
		"Items":                "Items belongs to the JSONata query language: set \"QueryLanguage\": \"JSONata\" on the state or the machine",
	}
)

// Parse validates a definition written in the Amazon States Language, with
// the JSONPath or the JSONata query language (per machine or per state),
// and returns the machine it describes.
func Parse(def []byte) (*Machine, error) {
	v, err := decode(def)
	if err != nil {
		return nil, &DefinitionError{Msg: "invalid JSON: " + err.Error()}
	}
	top, ok := v.(map[string]any)
	if !ok {
		return nil, &DefinitionError{Msg: "the definition must be a JSON object"}
	}
	for k := range top {
		switch k {
		case "StartAt", "States", "Comment", "Version", "TimeoutSeconds", "QueryLanguage":
		default:
			return nil, &DefinitionError{Field: k, Msg: "unknown top-level field"}
		}
	}
	p := &parser{m: &Machine{states: map[string]*state{}, branchOf: map[string]int{}}}
	if p.jsonata, err = queryLanguage("", top, false); err != nil {
		return nil, err
	}
	if ver, ok := top["Version"]; ok && ver != "1.0" {
		return nil, &DefinitionError{Field: "Version", Msg: "only version \"1.0\" is defined"}
	}
	if _, ok := top["TimeoutSeconds"]; ok {
		f, err := parseNumField(top, "TimeoutSeconds", timeoutSeconds, false, func(field, format string, a ...any) error {
			return &DefinitionError{Field: field, Msg: fmt.Sprintf(format, a...)}
		})
		if err != nil {
			return nil, err
		}
		p.m.timeout = time.Duration(f.lit.i) * time.Second
	}
	if p.m.root, err = p.scope("", top); err != nil {
		return nil, err
	}
	if err := checkScopes(p.m.root, nil); err != nil {
		return nil, err
	}
	slices.Sort(p.m.resources)
	p.m.resources = slices.Compact(p.m.resources)
	return p.m, nil
}

// Resources lists every Task resource of the machine, nested states
// included, sorted and without duplicates. For the lambda:invoke
// integration it lists the function name instead, when it is static.
func (m *Machine) Resources() []string { return slices.Clone(m.resources) }

type parser struct {
	m       *Machine
	jsonata bool // the machine's QueryLanguage is JSONata
}

// queryLanguage reads the QueryLanguage field of the machine (state "")
// or of a state, whose default is the machine's. A machine in JSONata
// cannot have JSONPath states
// (https://docs.aws.amazon.com/step-functions/latest/dg/query-language.html).
func queryLanguage(state string, m map[string]any, dflt bool) (jsonata bool, err error) {
	ql, ok := m["QueryLanguage"]
	switch {
	case !ok:
		return dflt, nil
	case ql == "JSONata":
		return true, nil
	case ql == "JSONPath" && dflt:
		return false, &DefinitionError{State: state, Field: "QueryLanguage", Msg: "a state cannot use JSONPath when the machine's QueryLanguage is JSONata"}
	case ql == "JSONPath":
		return false, nil
	}
	return false, &DefinitionError{State: state, Field: "QueryLanguage", Msg: fmt.Sprintf("%s is not a query language: JSONPath or JSONata", marshalString(ql))}
}

// scope parses a StartAt/States pair. owner names the state that holds it
// (a Map or Parallel), "" for the machine.
func (p *parser) scope(owner string, m map[string]any) (*scope, error) {
	start, ok := m["StartAt"].(string)
	if !ok || start == "" {
		return nil, &DefinitionError{State: owner, Field: "StartAt", Msg: "missing or not a string"}
	}
	raw, ok := m["States"].(map[string]any)
	if !ok || len(raw) == 0 {
		return nil, &DefinitionError{State: owner, Field: "States", Msg: "missing or empty"}
	}
	sc := &scope{startAt: start, states: map[string]*state{}}
	for _, name := range sortedKeys(raw) {
		if len([]rune(name)) > 80 || name == "" {
			return nil, &DefinitionError{State: name, Msg: "state names must be 1 to 80 characters"}
		}
		if _, dup := p.m.states[name]; dup {
			return nil, &DefinitionError{State: name, Msg: "duplicate state name (names must be unique in the whole machine)"}
		}
		sm, ok := raw[name].(map[string]any)
		if !ok {
			return nil, &DefinitionError{State: name, Msg: "a state must be an object"}
		}
		st, err := p.state(name, sm)
		if err != nil {
			return nil, err
		}
		if _, dup := p.m.states[name]; dup { // a nested state took the name
			return nil, &DefinitionError{State: name, Msg: "duplicate state name (names must be unique in the whole machine)"}
		}
		sc.states[name] = st
		p.m.states[name] = st
	}
	if _, ok := sc.states[start]; !ok {
		return nil, &DefinitionError{State: owner, Field: "StartAt", Msg: fmt.Sprintf("%q names no state in its scope", start)}
	}
	// Every transition target exists in the same scope, and every state is
	// reachable from StartAt.
	for _, name := range sortedKeys2(sc.states) {
		st := sc.states[name]
		for _, t := range st.targets() {
			if _, ok := sc.states[t.name]; !ok {
				return nil, &DefinitionError{State: name, Field: t.field, Msg: fmt.Sprintf("%q names no state in its scope", t.name)}
			}
		}
	}
	seen := map[string]bool{start: true}
	work := []string{start}
	for len(work) > 0 {
		st := sc.states[work[len(work)-1]]
		work = work[:len(work)-1]
		for _, t := range st.targets() {
			if !seen[t.name] {
				seen[t.name] = true
				work = append(work, t.name)
			}
		}
	}
	for _, name := range sortedKeys2(sc.states) {
		if !seen[name] {
			return nil, &DefinitionError{State: name, Msg: "state is unreachable from StartAt " + start}
		}
	}
	return sc, nil
}

func sortedKeys2(m map[string]*state) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

type target struct{ field, name string }

func (st *state) targets() []target {
	var ts []target
	if st.next != "" {
		ts = append(ts, target{"Next", st.next})
	}
	if st.defaultNext != "" {
		ts = append(ts, target{"Default", st.defaultNext})
	}
	for _, r := range st.choices {
		ts = append(ts, target{"Choices", r.next})
	}
	for _, c := range st.catch {
		ts = append(ts, target{"Catch", c.next})
	}
	return ts
}

func (p *parser) state(name string, m map[string]any) (*state, error) {
	bad := func(field, format string, a ...any) error {
		return &DefinitionError{State: name, Field: field, Msg: fmt.Sprintf(format, a...)}
	}
	typ, ok := m["Type"].(string)
	if !ok {
		return nil, bad("Type", "missing or not a string")
	}
	allowed, ok := stateFields[typ]
	if !ok {
		return nil, bad("Type", "unknown state type %q", typ)
	}
	isJSONata, err := queryLanguage(name, m, p.jsonata)
	if err != nil {
		return nil, err
	}
	if isJSONata {
		allowed = jsonataFields[typ]
	}
	for _, k := range sortedKeys(m) {
		if slices.Contains(commonFields, k) || slices.Contains(allowed, k) {
			continue
		}
		if isJSONata && slices.Contains(jsonPathOnly, k) {
			return nil, bad(k, "%s belongs to the JSONPath query language; a JSONata state uses Arguments, Output, Assign and {%% %%} expressions", k)
		}
		if why, ok := unsupported[k]; ok {
			return nil, bad(k, "%s", why)
		}
		return nil, bad(k, "unknown field for a %s state", typ)
	}
	st := &state{name: name, typ: typ, jsonata: isJSONata}
	if v, ok := m["Assign"]; ok {
		if st.assign, err = parseAssign(v, isJSONata); err != nil {
			return nil, bad("Assign", "%v", err)
		}
	}
	str := func(k string) (string, bool, error) {
		v, ok := m[k]
		if !ok {
			return "", false, nil
		}
		s, isStr := v.(string)
		if !isStr {
			return "", false, bad(k, "must be a string")
		}
		return s, true, nil
	}

	// Transitions.
	if slices.Contains(allowed, "Next") {
		next, hasNext, err := str("Next")
		if err != nil {
			return nil, err
		}
		end, hasEnd := m["End"]
		if hasEnd && end != true {
			return nil, bad("End", "must be true when present")
		}
		switch {
		case hasNext && hasEnd:
			return nil, bad("End", "Next and End are mutually exclusive")
		case !hasNext && !hasEnd:
			return nil, bad("Next", "a %s state needs Next or End", typ)
		case hasNext && next == "":
			return nil, bad("Next", "must not be empty")
		}
		st.next, st.end = next, hasEnd
	}

	// Input and output processing.
	pathField := func(k string, ref bool) (*path, bool, error) {
		v, ok := m[k]
		if !ok {
			return nil, false, nil
		}
		if v == nil {
			return nil, true, nil
		}
		s, isStr := v.(string)
		if !isStr {
			return nil, false, bad(k, "must be a path string or null")
		}
		var p *path
		var err error
		if ref {
			p, err = parseRefPath(s)
		} else if p, err = parsePath(s); err == nil && p.variable != "" {
			err = fmt.Errorf("%q: a variable cannot be used in %s", s, k)
		}
		if err != nil {
			return nil, false, bad(k, "%v", err)
		}
		return p, false, nil
	}
	if st.inputPath, st.inputNull, err = pathField("InputPath", false); err != nil {
		return nil, err
	}
	if st.outputPath, st.outputNull, err = pathField("OutputPath", false); err != nil {
		return nil, err
	}
	if st.resultPath, st.resultNull, err = pathField("ResultPath", true); err != nil {
		return nil, err
	}
	tmplField := func(k string) (*tmpl, error) {
		v, ok := m[k]
		if !ok {
			return nil, nil
		}
		if _, isObj := v.(map[string]any); !isObj && k != "Parameters" {
			return nil, bad(k, "must be an object")
		}
		t, err := parseTemplate(v)
		if err != nil {
			return nil, bad(k, "%v", err)
		}
		return t, nil
	}
	if st.parameters, err = tmplField("Parameters"); err != nil {
		return nil, err
	}
	if st.resultSel, err = tmplField("ResultSelector"); err != nil {
		return nil, err
	}
	st.result, st.hasResult = m["Result"]
	jField := func(k string) (*jtmpl, error) {
		v, ok := m[k]
		if !ok {
			return nil, nil
		}
		t, err := parseJtmpl(v)
		if err != nil {
			return nil, bad(k, "%v", err)
		}
		return t, nil
	}
	if st.arguments, err = jField("Arguments"); err != nil {
		return nil, err
	}
	if st.arguments != nil && st.arguments.static() {
		if _, isObj := st.arguments.lit.(map[string]any); !isObj {
			return nil, bad("Arguments", "must be an object or a {%% %%} expression")
		}
	}
	if st.outputJ, err = jField("Output"); err != nil {
		return nil, err
	}

	switch typ {
	case "Task":
		err = p.task(st, m, bad)
	case "Choice":
		err = p.choice(st, m, bad)
	case "Wait":
		err = p.wait(st, m, bad)
	case "Fail":
		err = p.fail(st, m, bad)
	case "Map":
		err = p.mapState(st, m, bad)
	case "Parallel":
		err = p.parallel(st, m, bad)
	}
	if err != nil {
		return nil, err
	}
	if st.retry, err = parseRetry(m["Retry"], bad); err != nil {
		return nil, err
	}
	if st.catch, err = parseCatch(m["Catch"], bad, isJSONata); err != nil {
		return nil, err
	}
	return st, nil
}

type badFunc func(field, format string, a ...any) error

func (p *parser) task(st *state, m map[string]any, bad badFunc) error {
	res, ok := m["Resource"].(string)
	if !ok || res == "" {
		return bad("Resource", "a Task needs a Resource string")
	}
	switch {
	case strings.HasSuffix(res, ".waitForTaskToken"):
		return bad("Resource", "the .waitForTaskToken integration pattern is not supported")
	case strings.HasSuffix(res, ".sync") || strings.Contains(res, ".sync:"):
		return bad("Resource", "the .sync integration pattern is not supported")
	case strings.Contains(res, ":activity:"):
		return bad("Resource", "activities are not supported")
	case !strings.HasPrefix(res, "arn:"):
		return bad("Resource", "%q is not an ARN (an unsubstituted ${...} placeholder?)", res)
	}
	st.resource = res
	p.m.hasTask = true
	if res == lambdaInvokeARN || strings.HasPrefix(res, lambdaInvokeARN+":") {
		st.lambdaInvoke = true
		field := "Parameters"
		if st.jsonata {
			field = "Arguments"
		}
		params, isObj := m[field].(map[string]any)
		fn, static := params["FunctionName"].(string)
		_, dynamic := params["FunctionName.$"]
		if st.jsonata {
			_, exprArgs := m[field].(string) // the whole Arguments is an expression
			_, isExpr := jsonataExpr(fn)
			dynamic = exprArgs || (isObj && isExpr)
			static = static && !isExpr
		}
		switch {
		case static && fn != "":
			p.m.resources = append(p.m.resources, fn)
		case !dynamic:
			return bad(field, "%s needs %s.FunctionName", lambdaInvokeARN, field)
		}
	} else {
		p.m.resources = append(p.m.resources, res)
	}
	var err error
	st.timeout, err = parseNumField(m, "TimeoutSeconds", timeoutSeconds, st.jsonata, bad)
	return err
}

func (p *parser) choice(st *state, m map[string]any, bad badFunc) error {
	arr, ok := m["Choices"].([]any)
	if !ok || len(arr) == 0 {
		return bad("Choices", "a Choice state needs a non-empty Choices array")
	}
	for i, raw := range arr {
		f := fmt.Sprintf("Choices[%d]", i)
		var r *rule
		var err error
		if st.jsonata {
			r, err = parseJSONataRule(raw)
		} else {
			r, err = parseRule(raw, true)
		}
		if err != nil {
			return bad(f, "%v", err)
		}
		if r.assign != nil {
			if st.assign != nil {
				// Both apply when the rule matches; which wins a name both
				// assign is not documented, so neither is guessed.
				for _, n := range r.assign.names {
					if slices.Contains(st.assign.names, n) {
						return bad(f, "variable %q is assigned both by the state's Assign and by this rule's", n)
					}
				}
			}
		}
		st.choices = append(st.choices, r)
	}
	if d, ok := m["Default"]; ok {
		s, isStr := d.(string)
		if !isStr || s == "" {
			return bad("Default", "must be a non-empty string")
		}
		st.defaultNext = s
	}
	return nil
}

func (p *parser) wait(st *state, m map[string]any, bad badFunc) error {
	n := 0
	for _, k := range []string{"Seconds", "SecondsPath", "Timestamp", "TimestampPath"} {
		if _, ok := m[k]; ok {
			n++
		}
	}
	if n != 1 {
		return bad("Seconds", "a Wait state needs exactly one of Seconds, SecondsPath, Timestamp, TimestampPath")
	}
	var err error
	if st.seconds, err = parseNumField(m, "Seconds", waitSeconds, st.jsonata, bad); err != nil {
		return err
	}
	if s, isStr := m["Timestamp"].(string); isStr && st.jsonata {
		if src, isExpr := jsonataExpr(s); isExpr {
			if st.tsJ, err = parseJexpr(src); err != nil {
				return bad("Timestamp", "%v", err)
			}
			return nil
		}
	}
	if v, ok := m["Timestamp"]; ok {
		s, _ := v.(string)
		t, isTS := parseTimestamp(s)
		if !isTS {
			return bad("Timestamp", "must be an RFC 3339 timestamp such as 2016-03-14T01:59:00Z")
		}
		st.timestamp, st.hasTimestamp = t, true
	}
	if v, ok := m["TimestampPath"]; ok {
		s, _ := v.(string)
		if st.timestampPath, err = parseRefPath(s); err != nil {
			return bad("TimestampPath", "%v", err)
		}
	}
	return nil
}

func (p *parser) fail(st *state, m map[string]any, bad badFunc) error {
	if st.jsonata {
		for _, k := range []string{"Error", "Cause"} {
			v, ok := m[k]
			if !ok {
				continue
			}
			s, isStr := v.(string)
			if !isStr {
				return bad(k, "must be a string or a {%% %%} expression")
			}
			t, err := parseJtmpl(s)
			if err != nil {
				return bad(k, "%v", err)
			}
			switch {
			case t.expr == nil && k == "Error":
				st.errName = s
			case t.expr == nil:
				st.cause = s
			case k == "Error":
				st.errorJ = t
			default:
				st.causeJ = t
			}
		}
		return nil
	}
	for _, pair := range [][2]string{{"Error", "ErrorPath"}, {"Cause", "CausePath"}} {
		lit, hasLit := m[pair[0]]
		pv, hasPath := m[pair[1]]
		if hasLit && hasPath {
			return bad(pair[1], "%s and %s are mutually exclusive", pair[0], pair[1])
		}
		if hasLit {
			s, ok := lit.(string)
			if !ok {
				return bad(pair[0], "must be a string")
			}
			if pair[0] == "Error" {
				st.errName = s
			} else {
				st.cause = s
			}
		}
		if hasPath {
			s, ok := pv.(string)
			if !ok {
				return bad(pair[1], "must be a path or intrinsic function string")
			}
			e := &expr{}
			var err error
			if isIntrinsic(s) {
				e.call, err = parseIntrinsic(s)
			} else if e.path, err = parsePath(s); err == nil && (e.path.context || !e.path.definite) {
				err = fmt.Errorf("%q is not a reference path (only names and indexes are allowed)", s)
			}
			if err != nil {
				return bad(pair[1], "%v", err)
			}
			if pair[0] == "Error" {
				st.errorExpr = e
			} else {
				st.causeExpr = e
			}
		}
	}
	return nil
}

func (p *parser) mapState(st *state, m map[string]any, bad badFunc) error {
	var err error
	if v, ok := m["ItemsPath"]; ok {
		s, _ := v.(string)
		if st.itemsPath, err = parseItemsPath(s); err != nil {
			return bad("ItemsPath", "%v", err)
		}
	}
	_, hasSel := m["ItemSelector"]
	_, hasParams := m["Parameters"]
	if st.jsonata {
		if v, ok := m["Items"]; ok {
			if st.itemsJ, err = parseJtmpl(v); err != nil {
				return bad("Items", "%v", err)
			}
			if _, isArr := v.([]any); !isArr && st.itemsJ.static() {
				return bad("Items", "must be an array or a {%% %%} expression")
			}
		}
		if hasSel {
			if st.itemSelJ, err = parseJtmpl(m["ItemSelector"]); err != nil {
				return bad("ItemSelector", "%v", err)
			}
		}
	} else if hasSel && hasParams {
		return bad("Parameters", "ItemSelector and Parameters are mutually exclusive (Parameters is the legacy name)")
	}
	switch {
	case st.jsonata:
	case hasSel:
		raw, ok := m["ItemSelector"].(map[string]any)
		if !ok {
			return bad("ItemSelector", "must be an object")
		}
		if st.itemSel, err = parseTemplate(raw); err != nil {
			return bad("ItemSelector", "%v", err)
		}
	default:
		// In a Map state, Parameters is the legacy ItemSelector.
		st.itemSel, st.parameters = st.parameters, nil
	}
	procField := "ItemProcessor"
	proc, hasProc := m["ItemProcessor"]
	if it, hasIt := m["Iterator"]; hasIt {
		if hasProc {
			return bad("Iterator", "ItemProcessor and Iterator are mutually exclusive")
		}
		proc, hasProc, procField = it, true, "Iterator"
	}
	pm, ok := proc.(map[string]any)
	if !hasProc || !ok {
		return bad("ItemProcessor", "a Map state needs an ItemProcessor object")
	}
	for k, v := range pm {
		switch k {
		case "StartAt", "States", "Comment":
		case "ProcessorConfig":
			if procField == "Iterator" {
				return bad("Iterator", "ProcessorConfig is only allowed in ItemProcessor")
			}
			cfg, ok := v.(map[string]any)
			if !ok {
				return bad("ItemProcessor", "ProcessorConfig must be an object")
			}
			for _, ck := range sortedKeys(cfg) {
				cv := cfg[ck]
				switch {
				case ck == "Mode" && cv == "INLINE":
				case ck == "Mode" && cv == "DISTRIBUTED":
					st.dist = &distributed{execType: "STANDARD"}
				case ck == "Mode":
					return bad("ItemProcessor", "unknown ProcessorConfig Mode %s", marshalString(cv))
				case ck == "ExecutionType":
				default:
					return bad("ItemProcessor", "unknown ProcessorConfig field %q", ck)
				}
			}
			if et, ok := cfg["ExecutionType"]; ok {
				switch {
				case st.dist == nil:
					return bad("ItemProcessor", "ExecutionType applies to DISTRIBUTED Map only")
				case et == "STANDARD" || et == "EXPRESS":
					st.dist.execType = et.(string)
				default:
					return bad("ItemProcessor", "ExecutionType must be STANDARD or EXPRESS, got %s", marshalString(et))
				}
			} else if st.dist != nil {
				return bad("ItemProcessor", "a DISTRIBUTED Map needs ProcessorConfig.ExecutionType STANDARD or EXPRESS")
			}
		default:
			return bad(procField, "unknown field %q", k)
		}
	}
	if st.processor, err = p.scope(st.name, pm); err != nil {
		return err
	}
	if err := p.distributedFields(st, m, bad); err != nil {
		return err
	}
	st.maxConc, err = parseNumField(m, "MaxConcurrency", nonNegativeInteger, st.jsonata, bad)
	return err
}

func (p *parser) parallel(st *state, m map[string]any, bad badFunc) error {
	arr, ok := m["Branches"].([]any)
	if !ok || len(arr) == 0 {
		return bad("Branches", "a Parallel state needs a non-empty Branches array")
	}
	for i, raw := range arr {
		bm, ok := raw.(map[string]any)
		if !ok {
			return bad(fmt.Sprintf("Branches[%d]", i), "must be an object")
		}
		for k := range bm {
			if k != "StartAt" && k != "States" && k != "Comment" {
				return bad(fmt.Sprintf("Branches[%d]", i), "unknown field %q", k)
			}
		}
		sc, err := p.scope(st.name, bm)
		if err != nil {
			return err
		}
		for name := range sc.states {
			p.m.branchOf[name] = i
		}
		st.branches = append(st.branches, sc)
	}
	return nil
}

func errorEquals(v any, field string, bad badFunc) ([]string, error) {
	arr, ok := v.([]any)
	if !ok || len(arr) == 0 {
		return nil, bad(field, "ErrorEquals must be a non-empty array of strings")
	}
	out := make([]string, len(arr))
	for i, e := range arr {
		s, ok := e.(string)
		if !ok || s == "" {
			return nil, bad(field, "ErrorEquals must hold non-empty strings")
		}
		out[i] = s
	}
	if slices.Contains(out, ErrAll) && len(out) != 1 {
		return nil, bad(field, "%s must appear alone in its ErrorEquals", ErrAll)
	}
	return out, nil
}

func parseRetry(v any, bad badFunc) ([]retrier, error) {
	if v == nil {
		return nil, nil
	}
	arr, ok := v.([]any)
	if !ok {
		return nil, bad("Retry", "must be an array")
	}
	var out []retrier
	for i, raw := range arr {
		f := fmt.Sprintf("Retry[%d]", i)
		m, ok := raw.(map[string]any)
		if !ok {
			return nil, bad(f, "must be an object")
		}
		r := retrier{interval: 1, maxAttempts: 3, backoff: 2}
		var err error
		if r.errorEquals, err = errorEquals(m["ErrorEquals"], f, bad); err != nil {
			return nil, err
		}
		if slices.Contains(r.errorEquals, ErrAll) && i != len(arr)-1 {
			return nil, bad(f, "a retrier with %s must be the last one", ErrAll)
		}
		for k, x := range m {
			switch k {
			case "ErrorEquals", "Comment":
			case "IntervalSeconds":
				n, ok := positiveInt(x)
				if !ok || n > 99999999 {
					return nil, bad(f, "IntervalSeconds must be a positive integer")
				}
				r.interval = float64(n)
			case "MaxAttempts":
				n, ok := toInt(x)
				if !ok || n < 0 || n > 99999999 {
					return nil, bad(f, "MaxAttempts must be a non-negative integer")
				}
				r.maxAttempts = int(n)
			case "BackoffRate":
				b, ok := toFloat(x)
				if !ok || b < 1 || math.IsInf(b, 0) {
					return nil, bad(f, "BackoffRate must be a number >= 1.0")
				}
				r.backoff = b
			case "MaxDelaySeconds":
				n, ok := positiveInt(x)
				if !ok || n > 31622400 {
					return nil, bad(f, "MaxDelaySeconds must be a positive integer")
				}
				r.maxDelay = float64(n)
			case "JitterStrategy":
				switch x {
				case "FULL":
					r.fullJitter = true
				case "NONE":
				default:
					return nil, bad(f, "JitterStrategy must be FULL or NONE")
				}
			default:
				return nil, bad(f, "unknown retrier field %q", k)
			}
		}
		out = append(out, r)
	}
	return out, nil
}

func parseCatch(v any, bad badFunc, isJSONata bool) ([]catcher, error) {
	if v == nil {
		return nil, nil
	}
	arr, ok := v.([]any)
	if !ok {
		return nil, bad("Catch", "must be an array")
	}
	var out []catcher
	for i, raw := range arr {
		f := fmt.Sprintf("Catch[%d]", i)
		m, ok := raw.(map[string]any)
		if !ok {
			return nil, bad(f, "must be an object")
		}
		var c catcher
		var err error
		if c.errorEquals, err = errorEquals(m["ErrorEquals"], f, bad); err != nil {
			return nil, err
		}
		if slices.Contains(c.errorEquals, ErrAll) && i != len(arr)-1 {
			return nil, bad(f, "a catcher with %s must be the last one", ErrAll)
		}
		for k, x := range m {
			switch k {
			case "ErrorEquals", "Comment":
			case "Next":
				s, ok := x.(string)
				if !ok || s == "" {
					return nil, bad(f, "Next must be a non-empty string")
				}
				c.next = s
			case "Assign":
				if c.assign, err = parseAssign(x, isJSONata); err != nil {
					return nil, bad(f, "Assign: %v", err)
				}
			case "Output":
				if !isJSONata {
					return nil, bad(f, "%s", unsupported["Output"])
				}
				if c.output, err = parseJtmpl(x); err != nil {
					return nil, bad(f, "Output: %v", err)
				}
			case "ResultPath":
				if isJSONata {
					return nil, bad(f, "ResultPath belongs to the JSONPath query language; a JSONata catcher uses Output and Assign")
				}
				if x == nil {
					c.resultNull = true
					continue
				}
				s, _ := x.(string)
				if c.resultPath, err = parseRefPath(s); err != nil {
					return nil, bad(f, "ResultPath: %v", err)
				}
			default:
				if why, ok := unsupported[k]; ok {
					return nil, bad(f, "%s", why)
				}
				return nil, bad(f, "unknown catcher field %q", k)
			}
		}
		if c.next == "" {
			return nil, bad(f, "a catcher needs Next")
		}
		out = append(out, c)
	}
	return out, nil
}

func positiveInt(v any) (int64, bool) {
	n, ok := toInt(v)
	return n, ok && n > 0
}
