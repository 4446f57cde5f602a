package sfnlocal

import (
	"context"
	"maps"
	"slices"
	"strings"
)

// Tags are kept for state machines (not their versions or aliases, nor
// executions), in the machine's record on the mount.

type tag struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// maxTags is AWS's limit of tags on one resource.
const maxTags = 50

// checkTags adds add to have (a copy) after checking them as AWS does:
// keys of 1–128 characters, values of at most 256, no "aws:" prefix, at
// most 50 tags in all.
func checkTags(have map[string]string, add []tag) (map[string]string, error) {
	out := maps.Clone(have)
	if out == nil {
		out = map[string]string{}
	}
	for _, t := range add {
		switch {
		case len([]rune(t.Key)) < 1 || len([]rune(t.Key)) > 128:
			return nil, errorf("ValidationException", "tag key %q: 1 to 128 characters", t.Key)
		case len([]rune(t.Value)) > 256:
			return nil, errorf("ValidationException", "tag %q: the value is over 256 characters", t.Key)
		case strings.HasPrefix(strings.ToLower(t.Key), "aws:"):
			return nil, errorf("ValidationException", "tag key %q: the aws: prefix is reserved", t.Key)
		}
		out[t.Key] = t.Value
	}
	if len(out) > maxTags {
		return nil, errorf("TooManyTags", "Too many tags: %d, at most %d per resource", len(out), maxTags)
	}
	if len(out) == 0 {
		return nil, nil
	}
	return out, nil
}

type resourceArnIn struct {
	Arn  string   `json:"resourceArn"`
	Tags []tag    `json:"tags"`
	Keys []string `json:"tagKeys"`
}

// taggable finds the state machine a tagging call names.
func (s *Server) taggable(arn string) (*machine, error) {
	parts := strings.Split(arn, ":")
	if !strings.HasPrefix(arn, "arn:") || len(parts) < 7 {
		return nil, errorf("InvalidArn", "Invalid Arn: '%s'", arn)
	}
	if parts[5] != "stateMachine" || len(parts) != 7 {
		return nil, errorf("InvalidArn", "Invalid Arn: '%s' (the local endpoint keeps tags of state machines only)", arn)
	}
	q, err := s.resolve(arn)
	if err != nil {
		return nil, errorf("ResourceNotFound", "Resource not found: '%s'", arn)
	}
	return q.m, nil
}

// tagResource: https://docs.aws.amazon.com/step-functions/latest/apireference/API_TagResource.html
func (s *Server) tagResource(_ context.Context, in resourceArnIn) (any, error) {
	return s.editTags(in.Arn, func(rec *machineRecord) error {
		tags, err := checkTags(rec.Tags, in.Tags)
		rec.Tags = tags
		return err
	})
}

// untagResource: https://docs.aws.amazon.com/step-functions/latest/apireference/API_UntagResource.html
// Keys the resource does not have are ignored.
func (s *Server) untagResource(_ context.Context, in resourceArnIn) (any, error) {
	return s.editTags(in.Arn, func(rec *machineRecord) error {
		for _, k := range in.Keys {
			delete(rec.Tags, k)
		}
		if len(rec.Tags) == 0 {
			rec.Tags = nil
		}
		return nil
	})
}

// editTags applies edit to the record of the resource arn names, once it
// is known to be one that takes tags; the answer is TagResource's and
// UntagResource's empty one.
func (s *Server) editTags(arn string, edit func(rec *machineRecord) error) (any, error) {
	if _, err := s.taggable(arn); err != nil {
		return nil, err
	}
	if _, err := s.modify(arn, nil, edit); err != nil {
		return nil, err
	}
	return struct{}{}, nil
}

// listTagsForResource: https://docs.aws.amazon.com/step-functions/latest/apireference/API_ListTagsForResource.html
func (s *Server) listTagsForResource(_ context.Context, in resourceArnIn) (any, error) {
	m, err := s.taggable(in.Arn)
	if err != nil {
		return nil, err
	}
	out := []tag{}
	for _, k := range slices.Sorted(maps.Keys(m.rec.Tags)) {
		out = append(out, tag{k, m.rec.Tags[k]})
	}
	return struct {
		Tags []tag `json:"tags"`
	}{out}, nil
}
