package trigger_test

import (
	"encoding/json"
	"testing"

	"github.com/efspipe/efspipe/pkg/jobfs"
	"github.com/efspipe/efspipe/pkg/pipeerr"
	"github.com/efspipe/efspipe/stages/trigger"
)

// FuzzObjects feeds arbitrary events to the parser: it returns objects
// whose execution names are valid, or a BadRequest, and never panics.
func FuzzObjects(f *testing.F) {
	for _, seed := range []string{
		`{"Records":[{"eventName":"ObjectCreated:Put","s3":{"bucket":{"name":"in"},"object":{"key":"red+flower%C3%9C.pdf","eTag":"abc","versionId":"v1"}}}]}`,
		`{"detail-type":"Object Created","detail":{"bucket":{"name":"in"},"object":{"key":"a%2Fb.pdf","etag":"e","version-id":"null"}}}`,
		`{"Records":[{"eventName":"ObjectRemoved:Delete"}]}`, `{"detail-type":"Object Deleted"}`, `[]`, `{"Records":7}`, `{"Records":[{"eventName":"ObjectCreated:Put","s3":{"object":{"key":"%zz"}}}]}`,
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, event string) {
		objs, err := trigger.Objects(json.RawMessage(event))
		if err != nil {
			if pipeerr.KindOf(err) != pipeerr.BadRequest {
				t.Fatalf("%q: %v is not BadRequest", event, err)
			}
			return
		}
		for _, o := range objs {
			if o.Bucket == "" || o.Key == "" || o.Version == "" || jobfs.CheckJobID(o.Name()) != nil {
				t.Fatalf("%q: object %+v, name %q", event, o, o.Name())
			}
		}
	})
}
