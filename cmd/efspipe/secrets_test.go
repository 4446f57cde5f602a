package main

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"
	"github.com/aws/smithy-go"

	"github.com/efspipe/efspipe/internal/awstest"
	"github.com/efspipe/efspipe/internal/pdftest"
)

func encryptedDoc(t *testing.T, dir string) string {
	t.Helper()
	for _, c := range pdftest.Corpus() {
		if c.Name == "encrypted-user-password" {
			p := filepath.Join(dir, "locked.pdf")
			if err := os.WriteFile(p, c.Data, 0o644); err != nil {
				t.Fatal(err)
			}
			return p
		}
	}
	t.Fatal("no encrypted case in the corpus")
	return ""
}

// noPassword fails if any file under the dirs, or any text, holds the
// password: execution records and histories, job.json, checkpoints, logs.
func noPassword(t *testing.T, texts []string, dirs ...string) {
	t.Helper()
	for _, s := range texts {
		if strings.Contains(s, pdftest.UserPassword) {
			t.Errorf("the password is in the output: %q", s)
		}
	}
	for _, dir := range dirs {
		filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
			if err == nil && d.Type().IsRegular() {
				if b, _ := os.ReadFile(p); bytes.Contains(b, []byte(pdftest.UserPassword)) {
					t.Errorf("the password is stored in %s", p)
				}
			}
			return nil
		})
	}
}

// serve takes a PDF's password only by reference: a Secrets Manager secret
// or an SSM SecureString parameter (moto_server, over HTTP), a variable of
// serve's named EFSPIPE_PASSWORD*; a plain "password" is refused before
// anything is stored, another variable is not read, and the password is
// nowhere on the mount, in the output or in serve's log afterwards.
func TestServePasswordReferences(t *testing.T) {
	awstest.Env(t, awstest.StartMoto(t))
	cfg, err := config.LoadDefaultConfig(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	sm, err := secretsmanager.NewFromConfig(cfg).CreateSecret(t.Context(), &secretsmanager.CreateSecretInput{Name: aws.String("efspipe/locked"), SecretString: aws.String(pdftest.UserPassword)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ssm.NewFromConfig(cfg).PutParameter(t.Context(), &ssm.PutParameterInput{Name: aws.String("/efspipe/locked"), Value: aws.String(pdftest.UserPassword), Type: ssmtypes.ParameterTypeSecureString}); err != nil {
		t.Fatal(err)
	}
	t.Setenv("EFSPIPE_PASSWORD_LOCKED", pdftest.UserPassword)
	t.Setenv("OTHER_PASSWORD", pdftest.UserPassword)
	dir, mount, out := t.TempDir(), t.TempDir(), t.TempDir()
	doc := encryptedDoc(t, dir)
	c, cmd, stderr := startServeProcess(t, mount, "--out", out, "--allow-source", dir, "-v")

	_, err = c.StartExecution(t.Context(), &sfn.StartExecutionInput{StateMachineArn: aws.String(machine), Name: aws.String("plain"),
		Input: aws.String(`{"source":"` + doc + `","password":"` + pdftest.UserPassword + `"}`)})
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "InvalidExecutionInput" || strings.Contains(err.Error(), pdftest.UserPassword) {
		t.Fatalf("a plain password: %v", err)
	}
	for _, tc := range []struct {
		name string
		in   map[string]string
		want types.ExecutionStatus
	}{
		{"other-variable", map[string]string{"passwordEnv": "OTHER_PASSWORD"}, types.ExecutionStatusFailed},
		{"secretsmanager", map[string]string{"passwordSecretArn": aws.ToString(sm.ARN)}, types.ExecutionStatusSucceeded},
		{"ssm", map[string]string{"passwordSecretArn": "arn:aws:ssm:us-east-1:123456789012:parameter/efspipe/locked"}, types.ExecutionStatusSucceeded},
		{"env", map[string]string{"passwordEnv": "EFSPIPE_PASSWORD_LOCKED"}, types.ExecutionStatusSucceeded},
	} {
		tc.in["source"] = doc
		d := waitExecution(t, c, startExecution(t, c, tc.name, tc.in))
		if d.Status != tc.want {
			t.Errorf("%s: %s %s %s", tc.name, d.Status, aws.ToString(d.Error), aws.ToString(d.Cause))
		}
	}
	cmd.Process.Signal(os.Interrupt)
	cmd.Wait()
	noPassword(t, []string{stderr.String()}, mount, out)
}

// run takes the password from --password-env or --password-file, records
// only the name, and refuses --password.
func TestRunPasswordReferences(t *testing.T) {
	dir := t.TempDir()
	doc := encryptedDoc(t, dir)
	pwFile := filepath.Join(dir, "pw")
	os.WriteFile(pwFile, []byte(pdftest.UserPassword+"\n"), 0o600)
	t.Setenv("PDF_PASSWORD", pdftest.UserPassword)
	mount, out := t.TempDir(), t.TempDir()
	if _, stderr, code := run(t, "run", "--mount", mount, "--out", out, "--password", pdftest.UserPassword, doc); code != 2 || !strings.Contains(stderr, "--password-env") {
		t.Fatalf("--password: exit %d, %s", code, stderr)
	}
	var texts []string
	for _, args := range [][]string{{"--password-file", pwFile}, {"--password-env", "PDF_PASSWORD", "--fresh"}} {
		r, stderr, code := run(t, append(append([]string{"run", "--json", "-v", "--mount", mount, "--out", out}, args...), doc)...)
		if code != 0 || r.Status != "SUCCEEDED" {
			t.Fatalf("%v: exit %d %+v %s", args, code, r, stderr)
		}
		texts = append(texts, stderr)
	}
	noPassword(t, texts, mount, out)
}
