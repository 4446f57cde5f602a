package lambdaenv

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/efspipe/efspipe/pkg/jobfs"
	"github.com/efspipe/efspipe/pkg/jobspec"
	"github.com/efspipe/efspipe/pkg/zlevel"
)

// The environment variables a function reads. Each documents its default.
const (
	// EnvMount is the mount path. Default DefaultMount.
	EnvMount = "EFSPIPE_MOUNT"
	// EnvOut is where finalize publishes (s3://bucket/prefix or a folder).
	// Required by functions that need Output.
	EnvOut = "EFSPIPE_OUT"
	// EnvMinFreeMiB is the free space the mount must have at cold start.
	// Default 64.
	EnvMinFreeMiB = "EFSPIPE_MIN_FREE_MIB"
	// EnvMemoryLimitMiB is the Go soft memory limit in MiB, as the CLI's
	// --memory-limit: the CDK stack sets it to the function's memory less
	// its headroom (infra memoryLimitMiB). Default: 90% of
	// AWS_LAMBDA_FUNCTION_MEMORY_SIZE.
	EnvMemoryLimitMiB = "EFSPIPE_MEMORY_LIMIT_MIB"
	// EnvLogLevel is debug, info, warn or error. Default info.
	EnvLogLevel = "EFSPIPE_LOG_LEVEL"

	// Defaults for new jobs; unset means the mount's config/efspipe.json,
	// then the built-in defaults (jobspec.Defaults).
	EnvShardPages = "EFSPIPE_SHARD_PAGES"
	EnvLevel      = "EFSPIPE_LEVEL"
	EnvMaxBytes   = "EFSPIPE_MAX_BYTES"
	EnvMaxPages   = "EFSPIPE_MAX_PAGES"
	EnvKeep       = "EFSPIPE_KEEP"

	// Set by Lambda.
	envLambdaMemory   = "AWS_LAMBDA_FUNCTION_MEMORY_SIZE"
	envLambdaFunction = "AWS_LAMBDA_FUNCTION_NAME"
)

// DefaultMount is where the functions mount EFS (the CDK stack's
// LocalMountPath).
const DefaultMount = "/mnt/efs"

// Needs are what a stage requires beyond the mount.
type Needs uint

// Output: EFSPIPE_OUT must be set (finalize).
const Output Needs = 1

// Buckets are deliberately not built here: the S3 client adds 1.5 MB to a
// binary, so only the mains that use it (ingest, finalize) link it, through
// source.NewS3Client and Must. finalize publishes through s3direct: the
// blob library behind publish.Target would add 11 MB more.

// Env is a stage's dependencies.
type Env struct {
	Log      *slog.Logger
	Mount    *jobfs.Mount
	Settings jobspec.Settings
	// OutURL is EFSPIPE_OUT, set with the Output need.
	OutURL string
	// MountInfo is what the cold-start check found.
	MountInfo MountInfo
	// MemoryLimit is the Go runtime's soft limit in bytes, 0 if none was set.
	MemoryLimit int64
}

// New builds the dependencies from getenv, logging JSON to logw. A mount
// that is missing, not a directory, not writable, or short of space is an
// error that says which.
func New(getenv func(string) string, logw io.Writer, needs Needs) (*Env, error) {
	log, err := NewLogger(getenv, logw)
	if err != nil {
		return nil, err
	}
	env := &Env{Log: log}

	if env.MemoryLimit, err = memoryLimit(getenv); err != nil {
		return nil, err
	}
	if env.MemoryLimit > 0 {
		debug.SetMemoryLimit(env.MemoryLimit)
	}
	if env.Settings, err = settings(getenv); err != nil {
		return nil, err
	}
	minFree := int64(64)
	if v := getenv(EnvMinFreeMiB); v != "" {
		if minFree, err = strconv.ParseInt(v, 10, 64); err != nil || minFree < 0 {
			return nil, fmt.Errorf("%s=%q is not a number of MiB", EnvMinFreeMiB, v)
		}
	}
	dir := getenv(EnvMount)
	if dir == "" {
		dir = DefaultMount
	}
	if env.Mount, env.MountInfo, err = OpenMount(dir, minFree<<20); err != nil {
		return nil, err
	}
	mi := env.MountInfo
	log.Info("mount ok", "path", mi.Path, "fs", mi.FSType, "is_mount", mi.IsMount, "free_bytes", mi.FreeBytes,
		"total_bytes", mi.TotalBytes, "uid", mi.UID, "gid", mi.GID, "memory_limit_bytes", env.MemoryLimit)

	if needs&Output != 0 {
		if env.OutURL = getenv(EnvOut); env.OutURL == "" {
			env.Mount.Close()
			return nil, fmt.Errorf("%s is not set: finalize needs the output location (s3://bucket/prefix)", EnvOut)
		}
		log.Info("output", "url", env.OutURL)
	}
	return env, nil
}

// NewLogger is the JSON logger every function uses, at EFSPIPE_LOG_LEVEL,
// naming the function.
func NewLogger(getenv func(string) string, w io.Writer) (*slog.Logger, error) {
	var level slog.Level
	if v := getenv(EnvLogLevel); v != "" {
		if err := level.UnmarshalText([]byte(v)); err != nil {
			return nil, fmt.Errorf("%s=%q: %w", EnvLogLevel, v, err)
		}
	}
	log := slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level}))
	if fn := getenv(envLambdaFunction); fn != "" {
		log = log.With("function", fn)
	}
	return log, nil
}

// Logger is NewLogger for a main that needs no mount (the trigger).
func Logger(getenv func(string) string, w io.Writer) *slog.Logger {
	return Must(NewLogger(getenv, w))
}

// Required returns the variable key, or logs its absence and exits.
func Required(getenv func(string) string, key string) string {
	v := getenv(key)
	if v == "" {
		Must(0, fmt.Errorf("%s is not set", key))
	}
	return v
}

// Main is New for a Lambda main: it reads the environment through getenv
// (os.Getenv) and, on any error, logs it as one JSON line and exits, so the
// failure shows up as an init error in the function's log rather than on
// every invocation.
func Main(getenv func(string) string, needs Needs) *Env {
	env, err := New(getenv, os.Stderr, needs)
	if err != nil {
		slog.New(slog.NewJSONHandler(os.Stderr, nil)).Error("cold start failed", "error", err.Error())
		os.Exit(1)
	}
	return env
}

// Must returns v, or logs err as one JSON line and exits: for what a main
// builds after Main.
func Must[T any](v T, err error) T {
	if err != nil {
		slog.New(slog.NewJSONHandler(os.Stderr, nil)).Error("cold start failed", "error", err.Error())
		os.Exit(1)
	}
	return v
}

// memoryLimit is the soft limit in bytes: EFSPIPE_MEMORY_LIMIT_MIB as it
// is, or 90% of the function's memory. The stack's value already leaves
// the headroom; taking 90% of it as well held a 3008 MiB split at 2437
// MiB (81%), a 128 MiB trigger at 57 MiB, where the README says 90%.
func memoryLimit(getenv func(string) string) (int64, error) {
	key, headroom := EnvMemoryLimitMiB, false
	v := getenv(key)
	if v == "" {
		key, headroom = envLambdaMemory, true
		v = getenv(key)
	}
	if v == "" {
		return 0, nil
	}
	mib, err := strconv.ParseInt(v, 10, 64)
	if err != nil || mib <= 0 {
		return 0, fmt.Errorf("%s=%q is not a number of MiB", key, v)
	}
	if !headroom {
		return mib << 20, nil
	}
	// 10% headroom for what the Go runtime does not count (stacks, the
	// Lambda runtime's buffers): GC works harder before Lambda kills.
	return mib << 20 / 10 * 9, nil
}

func settings(getenv func(string) string) (jobspec.Settings, error) {
	var s jobspec.Settings
	var err error
	num := func(key string, bits int) int64 {
		v := getenv(key)
		if v == "" || err != nil {
			return 0
		}
		n, perr := strconv.ParseInt(v, 10, bits)
		if perr != nil || n <= 0 {
			err = fmt.Errorf("%s=%q is not a positive number", key, v)
		}
		return n
	}
	s.ShardPages = int(num(EnvShardPages, 32))
	s.MaxBytes = num(EnvMaxBytes, 64)
	s.MaxPages = int(num(EnvMaxPages, 32))
	if err != nil {
		return s, err
	}
	s.Level = zlevel.Level(getenv(EnvLevel))
	if v := getenv(EnvKeep); v != "" {
		if s.Keep, err = strconv.ParseBool(v); err != nil {
			return s, fmt.Errorf("%s=%q is not true or false", EnvKeep, v)
		}
	}
	return s, nil
}

// MountInfo is what the cold-start check found.
type MountInfo struct {
	Path   string
	FSType string // "nfs" on EFS, else the statfs magic number
	// IsMount reports whether Path is a mount point (its device differs
	// from its parent's). Logged, not required: locally it is a directory.
	IsMount               bool
	FreeBytes, TotalBytes int64
	UID, GID              int
}

// OpenMount checks dir and opens it: it must exist (a missing EFS mount
// must not become an empty local directory), be a directory, be writable as
// this process's user (a probe file is created and removed), and have at
// least minFree bytes available.
func OpenMount(dir string, minFree int64) (*jobfs.Mount, MountInfo, error) {
	info := MountInfo{Path: dir, UID: os.Getuid(), GID: os.Getgid()}
	fi, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, info, fmt.Errorf("mount %s does not exist: is the EFS file system attached to the function at this path (FileSystemConfigs LocalMountPath, EFSPIPE_MOUNT)?", dir)
	case err != nil:
		return nil, info, fmt.Errorf("mount %s cannot be inspected: %w", dir, err)
	case !fi.IsDir():
		return nil, info, fmt.Errorf("mount %s is not a directory", dir)
	}
	if pfi, err := os.Stat(filepath.Dir(filepath.Clean(dir))); err == nil {
		st, ok1 := fi.Sys().(*syscall.Stat_t)
		pst, ok2 := pfi.Sys().(*syscall.Stat_t)
		info.IsMount = ok1 && ok2 && st.Dev != pst.Dev
	}
	var sfs unix.Statfs_t
	if err := unix.Statfs(dir, &sfs); err != nil {
		return nil, info, fmt.Errorf("mount %s: statfs: %w", dir, err)
	}
	info.FreeBytes = int64(sfs.Bavail) * int64(sfs.Bsize)
	info.TotalBytes = int64(sfs.Blocks) * int64(sfs.Bsize)
	info.FSType = fsType(int64(sfs.Type))
	if info.FreeBytes < minFree {
		return nil, info, fmt.Errorf("mount %s has %d bytes free, less than the %d required (%s): remove finished jobs' intermediates or grow the file system", dir, info.FreeBytes, minFree, EnvMinFreeMiB)
	}
	m, err := jobfs.Open(dir)
	if err != nil {
		return nil, info, err
	}
	if err := probe(m); err != nil {
		m.Close()
		return nil, info, fmt.Errorf("mount %s is not writable as uid %d gid %d (check the access point's POSIX user and root directory permissions): %w", dir, info.UID, info.GID, err)
	}
	return m, info, nil
}

// probe creates, syncs and removes a file through the mount's root.
func probe(m *jobfs.Mount) error {
	var rnd [6]byte
	_, _ = rand.Read(rnd[:])
	name := ".efspipe-probe-" + hex.EncodeToString(rnd[:])
	f, err := m.Root().OpenFile(name, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	_, werr := f.Write([]byte("probe"))
	serr := f.Sync()
	cerr := f.Close()
	rerr := m.Root().Remove(name)
	return errors.Join(werr, serr, cerr, rerr)
}

func fsType(magic int64) string {
	switch magic {
	case unix.NFS_SUPER_MAGIC:
		return "nfs"
	case unix.TMPFS_MAGIC:
		return "tmpfs"
	case unix.EXT4_SUPER_MAGIC:
		return "ext4"
	case unix.OVERLAYFS_SUPER_MAGIC:
		return "overlay"
	case unix.XFS_SUPER_MAGIC:
		return "xfs"
	case unix.BTRFS_SUPER_MAGIC:
		return "btrfs"
	}
	return "0x" + strings.ToLower(strconv.FormatInt(magic, 16))
}

// AWS is the configuration a function's SDK clients run with: the region
// and the execution role's credentials Lambda puts in the environment, and
// AWS_ENDPOINT_URL if set (LocalStack, tests). It does without the SDK's
// config package, whose credential chain (SSO, STS web identity, IMDS,
// shared files) a function never uses and which alone is ~300 KB of each
// bootstrap: finalize was over the 10 MB budget with it.
func AWS(getenv func(string) string) (aws.Config, error) {
	region, id, secret := getenv("AWS_REGION"), getenv("AWS_ACCESS_KEY_ID"), getenv("AWS_SECRET_ACCESS_KEY")
	if region == "" || id == "" || secret == "" {
		return aws.Config{}, fmt.Errorf("AWS_REGION, AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY must be set, as Lambda sets them")
	}
	cfg := aws.Config{
		Region:      region,
		Credentials: credentials.NewStaticCredentialsProvider(id, secret, getenv("AWS_SESSION_TOKEN")),
	}
	if ep := getenv("AWS_ENDPOINT_URL"); ep != "" {
		cfg.BaseEndpoint = aws.String(ep)
	}
	return cfg, nil
}
