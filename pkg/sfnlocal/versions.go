package sfnlocal

import (
	"cmp"
	"context"
	"maps"
	"math/rand/v2"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/efspipe/efspipe/pkg/asl"
)

// Versions and aliases, as AWS documents them
// (https://docs.aws.amazon.com/step-functions/latest/dg/concepts-state-machine-version.html,
// concepts-state-machine-alias.html): a version is an immutable copy of a
// revision, numbered from 1 and never renumbered; its ARN is the machine's
// with ":N". An alias routes executions to one or two versions by weight;
// its ARN is the machine's with ":name".

// Limits AWS documents.
const (
	maxVersions    = 1000
	maxAliases     = 100
	maxDescription = 256
)

// qualified is what a state machine ARN names: the machine itself, one of
// its versions, or one of its aliases.
type qualified struct {
	m       *machine
	version *versionRecord // set for a version ARN
	alias   *aliasRecord   // set for an alias ARN
}

// aliasName is AWS's pattern for alias names: letters, digits, _ - . and
// at least one character that is not a digit (so it never reads as a
// version number).
var aliasName = regexp.MustCompile(`^[a-zA-Z0-9_.-]*[a-zA-Z_.-][a-zA-Z0-9_.-]*$`)

// resolve finds what arn names. Unqualified ARNs name the machine; ":N" a
// version; ":name" an alias.
func (s *Server) resolve(arn string) (qualified, error) {
	parts := strings.Split(arn, ":")
	if !strings.HasPrefix(arn, "arn:") || len(parts) < 7 || len(parts) > 8 || parts[5] != "stateMachine" {
		return qualified{}, errorf("InvalidArn", "Invalid Arn: 'Resource type not valid in this context: %s'", arn)
	}
	base := strings.Join(parts[:7], ":")
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.machines[base]
	if m == nil {
		return qualified{}, errorf("StateMachineDoesNotExist", "State Machine Does Not Exist: '%s'", arn)
	}
	q := qualified{m: m}
	if len(parts) == 7 {
		return q, nil
	}
	if n, err := strconv.Atoi(parts[7]); err == nil {
		for i := range m.rec.Versions {
			if m.rec.Versions[i].Number == n {
				v := m.rec.Versions[i]
				q.version = &v
				return q, nil
			}
		}
		return qualified{}, errorf("StateMachineDoesNotExist", "State Machine Does Not Exist: '%s'", arn)
	}
	for i := range m.rec.Aliases {
		if m.rec.Aliases[i].Name == parts[7] {
			a := m.rec.Aliases[i]
			q.alias = &a
			return q, nil
		}
	}
	return qualified{}, errorf("ResourceNotFound", "Resource not found: '%s'", arn)
}

func (s *Server) versionArn(machineArn string, n int) string {
	return machineArn + ":" + strconv.Itoa(n)
}

// modify applies f to a copy of the record of the machine arn and, if f
// succeeds, saves the copy and makes it the machine's, with am as its
// parsed definition when am is not nil. Records are never changed in
// place, so a reader holding one needs no lock.
func (s *Server) modify(arn string, am *asl.Machine, f func(rec *machineRecord) error) (machineRecord, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.machines[arn]
	if m == nil {
		return machineRecord{}, errorf("StateMachineDoesNotExist", "State Machine Does Not Exist: '%s'", arn)
	}
	rec := m.rec
	rec.Tags = maps.Clone(rec.Tags)
	rec.Versions = slices.Clone(rec.Versions)
	rec.Aliases = slices.Clone(rec.Aliases)
	for i := range rec.Aliases {
		rec.Aliases[i].Routing = slices.Clone(rec.Aliases[i].Routing)
	}
	if err := f(&rec); err != nil {
		return machineRecord{}, err
	}
	next := &machine{rec: rec, m: cmp.Or(am, m.m), builtin: m.builtin}
	if err := s.saveMachine(next); err != nil {
		return machineRecord{}, err
	}
	s.machines[arn] = next
	return rec, nil
}

// publish publishes the current revision of rec as a version, or returns
// the version already published from it. Called inside modify.
func (s *Server) publish(rec *machineRecord, description string) (versionRecord, error) {
	if n := len(rec.Versions); n > 0 && rec.Versions[n-1].RevisionID == rec.RevisionID {
		return rec.Versions[n-1], nil
	}
	if len(rec.Versions) >= maxVersions {
		return versionRecord{}, errorf("ServiceQuotaExceededException", "%s has %d versions, the most a state machine may have; delete unused ones", rec.Arn, maxVersions)
	}
	rec.LastVersion++
	v := versionRecord{Number: rec.LastVersion, Definition: rec.Definition, RoleArn: rec.RoleArn, RevisionID: rec.RevisionID,
		Description: description, Created: s.now()}
	rec.Versions = append(rec.Versions, v)
	return v, nil
}

func checkDescription(d string) error {
	if len([]rune(d)) > maxDescription {
		return errorf("ValidationException", "1 validation error detected: Value at 'description' failed to satisfy constraint: Member must have length less than or equal to %d", maxDescription)
	}
	return nil
}

type publishIn struct {
	Arn         string  `json:"stateMachineArn"`
	Description string  `json:"description"`
	RevisionID  *string `json:"revisionId"`
}

type versionOut struct {
	Created epoch  `json:"creationDate"`
	Arn     string `json:"stateMachineVersionArn"`
}

// publishStateMachineVersion: https://docs.aws.amazon.com/step-functions/latest/apireference/API_PublishStateMachineVersion.html
func (s *Server) publishStateMachineVersion(_ context.Context, in publishIn) (any, error) {
	q, err := s.resolve(in.Arn)
	if err != nil {
		return nil, err
	}
	if q.version != nil || q.alias != nil {
		return nil, errorf("ValidationException", "publish a version from the state machine's ARN, not %s", in.Arn)
	}
	if err := checkDescription(in.Description); err != nil {
		return nil, err
	}
	var v versionRecord
	_, err = s.modify(in.Arn, nil, func(rec *machineRecord) error {
		if in.RevisionID != nil && *in.RevisionID != rec.RevisionID {
			return errorf("ConflictException", "revisionId %q is not the state machine's current revision %q", *in.RevisionID, rec.RevisionID)
		}
		v, err = s.publish(rec, in.Description)
		return err
	})
	if err != nil {
		return nil, err
	}
	return versionOut{epoch(v.Created), s.versionArn(in.Arn, v.Number)}, nil
}

type listVersionsIn struct {
	Arn        string `json:"stateMachineArn"`
	MaxResults int    `json:"maxResults"`
	NextToken  string `json:"nextToken"`
}

// listStateMachineVersions: https://docs.aws.amazon.com/step-functions/latest/apireference/API_ListStateMachineVersions.html
func (s *Server) listStateMachineVersions(_ context.Context, in listVersionsIn) (any, error) {
	q, err := s.resolve(in.Arn)
	if err != nil {
		return nil, err
	}
	if q.version != nil || q.alias != nil {
		return nil, errorf("ValidationException", "list versions with the state machine's ARN, not %s", in.Arn)
	}
	var all []versionOut
	// Newest first, as AWS sorts them.
	for _, v := range slices.Backward(q.m.rec.Versions) {
		all = append(all, versionOut{epoch(v.Created), s.versionArn(q.m.rec.Arn, v.Number)})
	}
	page, next, err := paginate(all, in.MaxResults, in.NextToken)
	if err != nil {
		return nil, err
	}
	return struct {
		Versions  []versionOut `json:"stateMachineVersions"`
		NextToken string       `json:"nextToken,omitempty"`
	}{page, next}, nil
}

type versionArnIn struct {
	Arn string `json:"stateMachineVersionArn"`
}

// deleteStateMachineVersion: https://docs.aws.amazon.com/step-functions/latest/apireference/API_DeleteStateMachineVersion.html
// Executions of the version go on and stay describable.
func (s *Server) deleteStateMachineVersion(_ context.Context, in versionArnIn) (any, error) {
	q, err := s.resolve(in.Arn)
	parts := strings.Split(in.Arn, ":")
	if _, numeric := strconv.Atoi(parts[len(parts)-1]); ErrorType(err) == "StateMachineDoesNotExist" && len(parts) == 8 && numeric == nil {
		// AWS lists no "does not exist" error for this action: deleting
		// a version that is gone succeeds.
		return struct{}{}, nil
	}
	if err != nil {
		return nil, err
	}
	if q.version == nil {
		return nil, errorf("ValidationException", "%s is not a state machine version ARN", in.Arn)
	}
	_, err = s.modify(q.m.rec.Arn, nil, func(rec *machineRecord) error {
		for _, a := range rec.Aliases {
			for _, r := range a.Routing {
				if r.VersionArn == in.Arn {
					return errorf("ConflictException", "version %s is used by alias %s; update or delete the alias first", in.Arn, a.Name)
				}
			}
		}
		rec.Versions = slices.DeleteFunc(rec.Versions, func(v versionRecord) bool { return v.Number == q.version.Number })
		return nil
	})
	if err != nil {
		return nil, err
	}
	return struct{}{}, nil
}

// ---- aliases

type createAliasIn struct {
	Name        string  `json:"name"`
	Description string  `json:"description"`
	Routing     []route `json:"routingConfiguration"`
}

// checkRouting checks a routing configuration as AWS does: one or two
// distinct versions of one machine, weights 0–100 summing to 100. It
// returns the machine.
func (s *Server) checkRouting(routes []route) (string, error) {
	if len(routes) < 1 || len(routes) > 2 {
		return "", errorf("ValidationException", "routingConfiguration must name one or two versions, not %d", len(routes))
	}
	sum, machineArn := 0, ""
	for i, r := range routes {
		q, err := s.resolve(r.VersionArn)
		if err != nil {
			return "", err
		}
		if q.version == nil {
			return "", errorf("ValidationException", "routingConfiguration[%d]: %s is not a state machine version ARN", i, r.VersionArn)
		}
		if machineArn != "" && q.m.rec.Arn != machineArn {
			return "", errorf("ValidationException", "routingConfiguration: the versions must belong to one state machine")
		}
		if i == 1 && r.VersionArn == routes[0].VersionArn {
			return "", errorf("ValidationException", "routingConfiguration: the two versions must differ")
		}
		if r.Weight < 0 || r.Weight > 100 {
			return "", errorf("ValidationException", "routingConfiguration[%d]: weight %d is not between 0 and 100", i, r.Weight)
		}
		machineArn, sum = q.m.rec.Arn, sum+r.Weight
	}
	if sum != 100 {
		return "", errorf("ValidationException", "routingConfiguration: the weights add up to %d, not 100", sum)
	}
	return machineArn, nil
}

type aliasOut struct {
	Arn     string `json:"stateMachineAliasArn"`
	Created epoch  `json:"creationDate"`
}

// createStateMachineAlias: https://docs.aws.amazon.com/step-functions/latest/apireference/API_CreateStateMachineAlias.html
func (s *Server) createStateMachineAlias(_ context.Context, in createAliasIn) (any, error) {
	if len(in.Name) < 1 || len(in.Name) > 80 || !aliasName.MatchString(in.Name) {
		return nil, errorf("ValidationException", "Invalid alias name %q: 1 to 80 of letters, digits, _ - . and not only digits", in.Name)
	}
	if err := checkDescription(in.Description); err != nil {
		return nil, err
	}
	machineArn, err := s.checkRouting(in.Routing)
	if err != nil {
		return nil, err
	}
	var out aliasOut
	_, err = s.modify(machineArn, nil, func(rec *machineRecord) error {
		out.Arn = machineArn + ":" + in.Name
		for _, a := range rec.Aliases {
			if a.Name != in.Name {
				continue
			}
			// The same request again is idempotent.
			if a.Description == in.Description && slices.Equal(a.Routing, in.Routing) {
				out.Created = epoch(a.Created)
				return nil
			}
			return errorf("ConflictException", "alias %s exists with another configuration", out.Arn)
		}
		if len(rec.Aliases) >= maxAliases {
			return errorf("ServiceQuotaExceededException", "%s has %d aliases, the most a state machine may have", machineArn, maxAliases)
		}
		if err := s.checkVersionsExist(rec, in.Routing); err != nil {
			return err
		}
		a := aliasRecord{Name: in.Name, Description: in.Description, Routing: in.Routing, Created: s.now()}
		rec.Aliases = append(rec.Aliases, a)
		out.Created = epoch(a.Created)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// checkVersionsExist checks again, inside modify, that routes name versions
// of rec: one may have been deleted since checkRouting.
func (s *Server) checkVersionsExist(rec *machineRecord, routes []route) error {
	for _, r := range routes {
		if !slices.ContainsFunc(rec.Versions, func(v versionRecord) bool { return s.versionArn(rec.Arn, v.Number) == r.VersionArn }) {
			return errorf("ResourceNotFound", "Resource not found: '%s'", r.VersionArn)
		}
	}
	return nil
}

type aliasArnIn struct {
	Arn string `json:"stateMachineAliasArn"`
}

func (s *Server) alias(arn string) (qualified, error) {
	q, err := s.resolve(arn)
	if ErrorType(err) == "StateMachineDoesNotExist" {
		return qualified{}, errorf("ResourceNotFound", "Resource not found: '%s'", arn)
	}
	if err != nil {
		return qualified{}, err
	}
	if q.alias == nil {
		return qualified{}, errorf("ValidationException", "%s is not a state machine alias ARN", arn)
	}
	return q, nil
}

// describeStateMachineAlias: https://docs.aws.amazon.com/step-functions/latest/apireference/API_DescribeStateMachineAlias.html
func (s *Server) describeStateMachineAlias(_ context.Context, in aliasArnIn) (any, error) {
	q, err := s.alias(in.Arn)
	if err != nil {
		return nil, err
	}
	a := q.alias
	return struct {
		Arn         string  `json:"stateMachineAliasArn"`
		Name        string  `json:"name"`
		Description string  `json:"description,omitempty"`
		Routing     []route `json:"routingConfiguration"`
		Created     epoch   `json:"creationDate"`
		Updated     *epoch  `json:"updateDate,omitempty"`
	}{in.Arn, a.Name, a.Description, a.Routing, epoch(a.Created), ptr(a.Updated)}, nil
}

// listStateMachineAliases: https://docs.aws.amazon.com/step-functions/latest/apireference/API_ListStateMachineAliases.html
// The ARN may be the machine's or one of its versions' (the aliases that
// route to it).
func (s *Server) listStateMachineAliases(_ context.Context, in listVersionsIn) (any, error) {
	q, err := s.resolve(in.Arn)
	if err != nil {
		return nil, err
	}
	if q.alias != nil {
		return nil, errorf("ValidationException", "list aliases with a state machine or version ARN, not an alias's")
	}
	var all []aliasOut
	for _, a := range q.m.rec.Aliases {
		if q.version != nil && !slices.ContainsFunc(a.Routing, func(r route) bool { return r.VersionArn == in.Arn }) {
			continue
		}
		all = append(all, aliasOut{q.m.rec.Arn + ":" + a.Name, epoch(a.Created)})
	}
	page, next, err := paginate(all, in.MaxResults, in.NextToken)
	if err != nil {
		return nil, err
	}
	return struct {
		Aliases   []aliasOut `json:"stateMachineAliases"`
		NextToken string     `json:"nextToken,omitempty"`
	}{page, next}, nil
}

type updateAliasIn struct {
	Arn         string  `json:"stateMachineAliasArn"`
	Description *string `json:"description"`
	Routing     []route `json:"routingConfiguration"`
}

// updateStateMachineAlias: https://docs.aws.amazon.com/step-functions/latest/apireference/API_UpdateStateMachineAlias.html
func (s *Server) updateStateMachineAlias(_ context.Context, in updateAliasIn) (any, error) {
	q, err := s.alias(in.Arn)
	if err != nil {
		return nil, err
	}
	if in.Description == nil && in.Routing == nil {
		return nil, errorf("MissingRequiredParameter", "either the description or the routingConfiguration must be specified")
	}
	if in.Description != nil {
		if err := checkDescription(*in.Description); err != nil {
			return nil, err
		}
	}
	if in.Routing != nil {
		machineArn, err := s.checkRouting(in.Routing)
		if err != nil {
			return nil, err
		}
		if machineArn != q.m.rec.Arn {
			return nil, errorf("ValidationException", "routingConfiguration: the versions must belong to %s", q.m.rec.Arn)
		}
	}
	var updated time.Time
	_, err = s.modify(q.m.rec.Arn, nil, func(rec *machineRecord) error {
		i := slices.IndexFunc(rec.Aliases, func(a aliasRecord) bool { return a.Name == q.alias.Name })
		if i < 0 {
			return errorf("ResourceNotFound", "Resource not found: '%s'", in.Arn)
		}
		a := &rec.Aliases[i]
		if in.Description != nil {
			a.Description = *in.Description
		}
		if in.Routing != nil {
			if err := s.checkVersionsExist(rec, in.Routing); err != nil {
				return err
			}
			a.Routing = in.Routing
		}
		a.Updated = s.now()
		updated = a.Updated
		return nil
	})
	if err != nil {
		return nil, err
	}
	return struct {
		Updated epoch `json:"updateDate"`
	}{epoch(updated)}, nil
}

// deleteStateMachineAlias: https://docs.aws.amazon.com/step-functions/latest/apireference/API_DeleteStateMachineAlias.html
// The versions it routed to stay.
func (s *Server) deleteStateMachineAlias(_ context.Context, in aliasArnIn) (any, error) {
	q, err := s.alias(in.Arn)
	if err != nil {
		return nil, err
	}
	_, err = s.modify(q.m.rec.Arn, nil, func(rec *machineRecord) error {
		rec.Aliases = slices.DeleteFunc(rec.Aliases, func(a aliasRecord) bool { return a.Name == q.alias.Name })
		return nil
	})
	if err != nil {
		return nil, err
	}
	return struct{}{}, nil
}

// pick chooses the version an execution through alias a runs, by weight.
func (a *aliasRecord) pick() string {
	n := rand.IntN(100)
	for _, r := range a.Routing {
		if n < r.Weight {
			return r.VersionArn
		}
		n -= r.Weight
	}
	return a.Routing[len(a.Routing)-1].VersionArn
}

// runnable is what StartExecution runs for arn: the definition and role of
// the machine, a version, or the version an alias picks.
type runnable struct {
	m                    *machine
	definition, roleArn  string
	revisionID           string
	updated              time.Time
	versionArn, aliasArn string
}

func (s *Server) runnable(arn string) (runnable, error) {
	q, err := s.resolve(arn)
	if err != nil {
		return runnable{}, err
	}
	rec := q.m.rec
	r := runnable{m: q.m, definition: rec.Definition, roleArn: rec.RoleArn, revisionID: rec.RevisionID, updated: cmp.Or(rec.Updated, rec.Created)}
	if q.alias != nil {
		r.aliasArn = arn
		vq, err := s.resolve(q.alias.pick())
		if err != nil || vq.version == nil {
			return runnable{}, errorf("StateMachineDoesNotExist", "alias %s routes to a version that does not exist", arn)
		}
		q.version = vq.version
	}
	if v := q.version; v != nil {
		r.versionArn = s.versionArn(rec.Arn, v.Number)
		r.definition, r.roleArn, r.revisionID, r.updated = v.Definition, v.RoleArn, v.RevisionID, v.Created
	}
	return r, nil
}
