package secret_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/efspipe/efspipe/internal/awstest"
	"github.com/efspipe/efspipe/pkg/pipeerr"
	"github.com/efspipe/efspipe/pkg/secret"
)

const password = "s3cr3t-Ünïcode pass"

// Secrets Manager secrets and SSM SecureString parameters, by ARN, from
// moto_server over HTTP; what names nothing or is not encrypted is
// refused without quoting any value.
func TestARNs(t *testing.T) {
	awstest.Env(t, awstest.StartMoto(t))
	cfg, err := config.LoadDefaultConfig(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	sm, err := secretsmanager.NewFromConfig(cfg).CreateSecret(t.Context(), &secretsmanager.CreateSecretInput{Name: aws.String("efspipe/report"), SecretString: aws.String(password)})
	if err != nil {
		t.Fatal(err)
	}
	ssmc := ssm.NewFromConfig(cfg)
	for name, typ := range map[string]ssmtypes.ParameterType{"/efspipe/report": ssmtypes.ParameterTypeSecureString, "/efspipe/plain": ssmtypes.ParameterTypeString} {
		if _, err := ssmc.PutParameter(t.Context(), &ssm.PutParameterInput{Name: aws.String(name), Value: aws.String(password), Type: typ}); err != nil {
			t.Fatal(err)
		}
	}
	res := &secret.Resolver{AWS: func(ctx context.Context) (aws.Config, error) { return cfg, nil }}
	param := "arn:aws:ssm:us-east-1:123456789012:parameter/efspipe/"
	for _, tc := range []struct {
		arn  string
		want pipeerr.Kind
	}{
		{aws.ToString(sm.ARN), ""},
		{param + "report", ""},
		{param + "plain", pipeerr.BadRequest},
		{param + "missing", pipeerr.BadRequest},
		{"arn:aws:secretsmanager:us-east-1:123456789012:secret:efspipe/missing-AbCdEf", pipeerr.BadRequest},
		{"arn:aws:s3:::bucket/key", pipeerr.BadRequest},
	} {
		got, err := res.Password(t.Context(), secret.Ref{SecretArn: tc.arn})
		if tc.want == "" {
			if err != nil || got != password {
				t.Errorf("%s: %q, %v", tc.arn, got, err)
			}
			continue
		}
		if pipeerr.KindOf(err) != tc.want || got != "" || strings.Contains(err.Error(), password) {
			t.Errorf("%s: %q, %v; want %s", tc.arn, got, err, tc.want)
		}
	}
	// A resolver without AWS refuses ARNs (local runs without credentials).
	if _, err := (&secret.Resolver{}).Password(t.Context(), secret.Ref{SecretArn: aws.ToString(sm.ARN)}); pipeerr.KindOf(err) != pipeerr.BadRequest {
		t.Errorf("no AWS: %v", err)
	}
}

func TestLocalRefs(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "pw")
	os.WriteFile(file, []byte(password+"\n"), 0o600)
	outside := filepath.Join(t.TempDir(), "pw")
	os.WriteFile(outside, []byte(password), 0o600)
	// A FIFO no one writes to: opening it must not wait for a writer.
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"EFSPIPE_PASSWORD_X": password, "AWS_SECRET_ACCESS_KEY": "keep out"}
	getenv := func(k string) string { return env[k] }
	cli := &secret.Resolver{Getenv: getenv, Files: true}
	serve := &secret.Resolver{Getenv: getenv, EnvPrefix: "EFSPIPE_PASSWORD", Files: true, FileRoots: []string{dir}}
	lambda := &secret.Resolver{}
	for _, tc := range []struct {
		res *secret.Resolver
		ref secret.Ref
		ok  bool
	}{
		{cli, secret.Ref{}, true},
		{cli, secret.Ref{Env: "EFSPIPE_PASSWORD_X"}, true},
		{cli, secret.Ref{Env: "UNSET"}, false},
		{cli, secret.Ref{File: file}, true},
		{cli, secret.Ref{File: outside}, true},
		{cli, secret.Ref{File: dir}, false},
		{cli, secret.Ref{Env: "EFSPIPE_PASSWORD_X", File: file}, false},
		{serve, secret.Ref{Env: "EFSPIPE_PASSWORD_X"}, true},
		{serve, secret.Ref{Env: "AWS_SECRET_ACCESS_KEY"}, false},
		{serve, secret.Ref{File: file}, true},
		{serve, secret.Ref{File: outside}, false},
		{serve, secret.Ref{File: fifo}, false},
		{cli, secret.Ref{File: fifo}, false},
		{serve, secret.Ref{File: filepath.Join(dir, "..", filepath.Base(filepath.Dir(outside)), "pw")}, false},
		{lambda, secret.Ref{Env: "EFSPIPE_PASSWORD_X"}, false},
		{lambda, secret.Ref{File: file}, false},
	} {
		got, err := tc.res.Password(t.Context(), tc.ref)
		want := password
		if tc.ref.IsZero() {
			want = ""
		}
		if tc.ok && (err != nil || got != want) {
			t.Errorf("%+v: %q, %v", tc.ref, got, err)
		}
		if !tc.ok && (pipeerr.KindOf(err) != pipeerr.BadRequest || got != "" || strings.Contains(err.Error(), password) || strings.Contains(err.Error(), "keep out")) {
			t.Errorf("%+v: %q, %v; want refused", tc.ref, got, err)
		}
	}
}

// TestCheckInputRefusesPasswords: a "password" key anywhere in an execution
// input is refused before the input is stored; references pass.
func TestCheckInputRefusesPasswords(t *testing.T) {
	for input, refused := range map[string]bool{
		`{"source": "a.pdf"}`: false,
		`{"source": "a.pdf", "passwordEnv": "EFSPIPE_PASSWORD_A"}`:          false,
		`{"source": "a.pdf", "passwordRef": {"env": "EFSPIPE_PASSWORD_A"}}`: false,
		`{"source": "a.pdf", "password": "x"}`:                              true,
		`{"source": "a.pdf", "Password": "x"}`:                              true,
		`{"source": "a.pdf", "passwor\u0064": "x"}`:                         true,
		`{"source": "a.pdf", "passwordRef": {"password": "x"}}`:             true,
		`{"source": "a.pdf", "more": [{"x": {"PASSWORD": "x"}}]}`:           true,
	} {
		if err := secret.CheckInput(json.RawMessage(input)); (err != nil) != refused {
			t.Errorf("%s: %v, want refused %v", input, err, refused)
		}
	}
}
