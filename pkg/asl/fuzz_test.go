package asl

import (
	"os"
	"path/filepath"
	"testing"
)

func TestTestdataParses(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.asl.json")
	if len(files) == 0 {
		t.Fatal("no testdata definitions")
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Parse(b); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
}

// FuzzParse checks that the loader never panics and that what it accepts
// it accepts consistently.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.asl.json")
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(pipelineDef(f)))
	f.Add([]byte(`{"StartAt":"A","States":{"A":{"Type":"Pass","Parameters":{"x.$":"States.Format('{}', $.a[0]['b'])"},"End":true}}}`))
	f.Add([]byte(`{"QueryLanguage":"JSONata","StartAt":"M","States":{"M":{"Type":"Map","Items":"{% $states.input.items %}","MaxConcurrency":"{% $c %}",
		"ToleratedFailureCount":"{% 1 %}","ToleratedFailurePercentage":5.5,"ItemBatcher":{"MaxItemsPerBatch":"{% 2 %}","MaxInputBytesPerBatch":100},
		"ItemProcessor":{"ProcessorConfig":{"Mode":"DISTRIBUTED","ExecutionType":"STANDARD"},"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:1:function:f","TimeoutSeconds":"{% 3 %}","End":true}}},"End":true}}}`))
	f.Fuzz(func(t *testing.T, def []byte) {
		m, err := Parse(def)
		if err != nil {
			if _, ok := err.(*DefinitionError); !ok {
				t.Fatalf("Parse returned %T, want *DefinitionError", err)
			}
			return
		}
		_ = m.Resources()
	})
}
