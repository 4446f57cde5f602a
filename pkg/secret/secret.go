package secret

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/arn"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/efspipe/efspipe/pkg/pipeerr"
)

// Ref names where a PDF's password is, never the password itself. At most
// one field is set; the zero Ref means the PDF needs none.
type Ref struct {
	// SecretArn is the ARN of a Secrets Manager secret (its SecretString
	// is the password) or of an SSM SecureString parameter (its value).
	SecretArn string `json:"passwordSecretArn,omitempty"`
	// Env is the name of an environment variable of the process that
	// resolves the reference (local runs only).
	Env string `json:"passwordEnv,omitempty"`
	// File is the path of a file whose content, less one trailing newline,
	// is the password (local runs only).
	File string `json:"passwordFile,omitempty"`
}

// IsZero reports whether r names no password.
func (r Ref) IsZero() bool { return r == Ref{} }

// Check validates r's shape without resolving it: at most one field, and
// an ARN of a Secrets Manager secret or an SSM parameter. Errors are
// InvalidInput.BadRequest.
func (r Ref) Check() error {
	n := 0
	for _, s := range []string{r.SecretArn, r.Env, r.File} {
		if s != "" {
			n++
		}
	}
	if n > 1 {
		return pipeerr.New(pipeerr.BadRequest, "give one of passwordSecretArn, passwordEnv and passwordFile")
	}
	if r.SecretArn != "" {
		if _, err := service(r.SecretArn); err != nil {
			return err
		}
	}
	return nil
}

// service is "secretsmanager" or "ssm", from the ARN's service and
// resource (arn:aws:secretsmanager:REGION:ACCOUNT:secret:NAME,
// arn:aws:ssm:REGION:ACCOUNT:parameter/NAME; AWS General Reference,
// "Amazon Resource Names").
func service(s string) (string, error) {
	a, err := arn.Parse(s)
	switch {
	case err != nil:
	case a.Service == "secretsmanager" && strings.HasPrefix(a.Resource, "secret:"):
		return a.Service, nil
	case a.Service == "ssm" && strings.HasPrefix(a.Resource, "parameter/"):
		return a.Service, nil
	}
	return "", pipeerr.New(pipeerr.BadRequest, "passwordSecretArn %q is not the ARN of a Secrets Manager secret or an SSM parameter", s)
}

// Resolver turns a Ref into the password. Its zero value refuses every
// kind of reference; each field enables one.
type Resolver struct {
	// AWS returns the region, credentials and endpoint (BaseEndpoint:
	// AWS_ENDPOINT_URL) the GetSecretValue and GetParameter calls use,
	// called for each ARN (a Lambda builds it once; a local run only when
	// an ARN is given). Nil refuses ARNs.
	AWS func(ctx context.Context) (aws.Config, error)
	// Getenv reads environment references. Nil refuses them.
	Getenv func(string) string
	// EnvPrefix, if set, is the prefix every environment reference must
	// have: serve resolves references from callers it cannot identify, who
	// must not pick its other variables (AWS credentials) as a password.
	EnvPrefix string
	// Files enables file references; FileRoots, if not empty, are the
	// only directories they may be under (serve: its --allow-source roots).
	Files     bool
	FileRoots []string
}

// Password resolves r; the zero Ref is "". Errors: InvalidInput.BadRequest
// for a reference this resolver refuses or that names nothing (a missing
// variable, file, secret or parameter; a parameter that is not a
// SecureString), Transient.IO for a service that could not be reached.
// No error quotes the password or the file's content.
func (res *Resolver) Password(ctx context.Context, r Ref) (string, error) {
	if err := r.Check(); err != nil {
		return "", err
	}
	switch {
	case r.SecretArn != "":
		return res.fromARN(ctx, r.SecretArn)
	case r.Env != "":
		if res.Getenv == nil {
			return "", pipeerr.New(pipeerr.BadRequest, "passwordEnv is for local runs; pass passwordSecretArn")
		}
		if !strings.HasPrefix(r.Env, res.EnvPrefix) {
			return "", pipeerr.New(pipeerr.BadRequest, "passwordEnv %q: only variables named %s* are read here", r.Env, res.EnvPrefix)
		}
		v := res.Getenv(r.Env)
		if v == "" {
			return "", pipeerr.New(pipeerr.BadRequest, "passwordEnv %q: the variable is not set", r.Env)
		}
		return v, nil
	case r.File != "":
		return res.fromFile(r.File)
	}
	return "", nil
}

func (res *Resolver) fromFile(name string) (string, error) {
	if !res.Files {
		return "", pipeerr.New(pipeerr.BadRequest, "passwordFile is for local runs; pass passwordSecretArn")
	}
	p, err := filepath.Abs(name)
	if err != nil {
		return "", pipeerr.Wrap(pipeerr.BadRequest, err, "passwordFile %s", name)
	}
	if len(res.FileRoots) > 0 {
		var root *os.Root
		for _, dir := range res.FileRoots {
			if rel, err := filepath.Rel(dir, p); err == nil && filepath.IsLocal(rel) {
				if root, err = os.OpenRoot(dir); err == nil {
					defer root.Close()
					p = rel
				}
				break
			}
		}
		if root == nil {
			return "", pipeerr.New(pipeerr.BadRequest, "passwordFile %s is not under an allowed directory (%s)", name, strings.Join(res.FileRoots, ", "))
		}
		return readPassword(name, func() ([]byte, error) { return readSmall(root.OpenFile(p, openFlags, 0)) })
	}
	return readPassword(name, func() ([]byte, error) { return readSmall(os.OpenFile(p, openFlags, 0)) })
}

// openFlags open a password file without blocking: opening a FIFO for
// reading waits for a writer otherwise, before readSmall can refuse it.
const openFlags = os.O_RDONLY | syscall.O_NONBLOCK | syscall.O_NOCTTY

// readSmall reads a regular file of at most 64 KiB: a password file is
// never larger, and a FIFO or a device must not block or flood the stage.
func readSmall(f *os.File, err error) ([]byte, error) {
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() || fi.Size() > 64<<10 {
		return nil, errors.New("not a regular file of at most 64 KiB")
	}
	b := make([]byte, fi.Size())
	_, err = f.ReadAt(b, 0)
	return b, err
}

func readPassword(name string, read func() ([]byte, error)) (string, error) {
	b, err := read()
	if err != nil {
		// The error is the open's or the check's, never the content.
		return "", pipeerr.Wrap(pipeerr.BadRequest, err, "passwordFile %s cannot be read", name)
	}
	s := strings.TrimSuffix(strings.TrimSuffix(string(b), "\n"), "\r")
	if s == "" {
		return "", pipeerr.New(pipeerr.BadRequest, "passwordFile %s is empty", name)
	}
	return s, nil
}

func (res *Resolver) fromARN(ctx context.Context, ref string) (string, error) {
	if res.AWS == nil {
		return "", pipeerr.New(pipeerr.BadRequest, "passwordSecretArn cannot be resolved here (in the cloud: deploy with passwordSecrets naming it)")
	}
	svc, err := service(ref)
	if err != nil {
		return "", err
	}
	cfg, err := res.AWS(ctx)
	if err != nil {
		return "", pipeerr.Wrap(pipeerr.BadRequest, err, "passwordSecretArn: AWS configuration")
	}
	if svc == "secretsmanager" {
		// Secrets Manager API Reference, GetSecretValue.
		var out struct{ SecretString string }
		if err := call(ctx, cfg, svc, "secretsmanager.GetSecretValue", map[string]any{"SecretId": ref}, &out); err != nil {
			return "", classify(err, ref)
		}
		if out.SecretString == "" {
			return "", pipeerr.New(pipeerr.BadRequest, "secret %s has no SecretString", ref)
		}
		return out.SecretString, nil
	}
	// Systems Manager API Reference, GetParameter: "Name": the parameter
	// name or ARN.
	var out struct{ Parameter struct{ Type, Value string } }
	if err := call(ctx, cfg, svc, "AmazonSSM.GetParameter", map[string]any{"Name": ref, "WithDecryption": true}, &out); err != nil {
		return "", classify(err, ref)
	}
	if out.Parameter.Type != "SecureString" {
		return "", pipeerr.New(pipeerr.BadRequest, "parameter %s is not a SecureString: a password must be stored encrypted", ref)
	}
	return out.Parameter.Value, nil
}

// serviceError is an error answer of an AWS JSON protocol API.
type serviceError struct {
	Status  int
	Type    string `json:"__type"`
	Message string `json:"message"`
}

func (e *serviceError) Error() string {
	return fmt.Sprintf("HTTP %d: %s: %s", e.Status, e.Type, e.Message)
}

// call makes one call of the AWS JSON 1.1 protocol (POST, X-Amz-Target),
// signed with Signature Version 4 by the SDK's signer with the config's
// credentials. Not the SDK's service clients: the SSM one alone adds 2 MB
// to the split bootstrap, over the 10 MB budget, for one operation.
func call(ctx context.Context, cfg aws.Config, svc, target string, in, out any) error {
	body, err := json.Marshal(in)
	if err != nil {
		return err
	}
	endpoint := "https://" + svc + "." + cfg.Region + ".amazonaws.com/"
	if cfg.BaseEndpoint != nil {
		endpoint = *cfg.BaseEndpoint
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", target)
	if cfg.Credentials == nil {
		return errors.New("no AWS credentials")
	}
	creds, err := cfg.Credentials.Retrieve(ctx)
	if err != nil {
		return err
	}
	sum := sha256.Sum256(body)
	if err := v4.NewSigner().SignHTTP(ctx, creds, req, hex.EncodeToString(sum[:]), svc, cfg.Region, time.Now()); err != nil {
		return err
	}
	client := cfg.HTTPClient
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		e := &serviceError{Status: resp.StatusCode}
		json.Unmarshal(data, e)
		// "__type" may be namespaced: "com.amazonaws...#ParameterNotFound".
		e.Type = e.Type[strings.LastIndex(e.Type, "#")+1:]
		return e
	}
	return json.Unmarshal(data, out)
}

// classify names what will not change on a retry (a secret that does not
// exist or is refused) InvalidInput.BadRequest, anything else (a dropped
// connection, throttling, a 5xx) Transient.IO.
func classify(err error, ref string) error {
	var se *serviceError
	if !errors.As(err, &se) {
		return pipeerr.Wrap(pipeerr.IO, err, "%s", ref)
	}
	switch {
	case se.Type == "ResourceNotFoundException" || se.Type == "ParameterNotFound":
		return pipeerr.Wrap(pipeerr.BadRequest, err, "%s does not exist", ref)
	case strings.Contains(se.Type, "AccessDenied"):
		return pipeerr.Wrap(pipeerr.BadRequest, err, "%s: access denied (the stack grants the split function secretsmanager:GetSecretValue and ssm:GetParameter on the ARNs in PasswordSecrets)", ref)
	case se.Status >= 500 || strings.Contains(se.Type, "Throttl"):
		return pipeerr.Wrap(pipeerr.IO, err, "%s", ref)
	}
	return pipeerr.Wrap(pipeerr.BadRequest, err, "%s cannot be read", ref)
}

// PlainPassword is why an execution input holding a password is refused:
// an execution's input is stored in its history (by Step Functions, and by
// efspipe serve under sfn/ on the mount), so the password would be kept in
// plain text there.
const PlainPassword = `the input has a "password", which the execution history would keep in plain text: pass "passwordSecretArn" (locally "passwordEnv", a variable named EFSPIPE_PASSWORD* for serve, or "passwordFile", under an --allow-source directory for serve) instead`

// CheckInput refuses an execution input with a "password" key at any depth
// (in any letter case; `{"passwordRef": {"password": ...}}` too), for
// PlainPassword's reason. efspipe serve calls it before it stores an input;
// ingest refuses the same input in the cloud, where the history is already
// written.
func CheckInput(input json.RawMessage) error {
	var v any
	if json.Unmarshal(input, &v) != nil || !hasPasswordKey(v) {
		return nil
	}
	return errors.New(PlainPassword)
}

func hasPasswordKey(v any) bool {
	switch v := v.(type) {
	case map[string]any:
		for k, e := range v {
			if strings.EqualFold(k, "password") || hasPasswordKey(e) {
				return true
			}
		}
	case []any:
		for _, e := range v {
			if hasPasswordKey(e) {
				return true
			}
		}
	}
	return false
}
