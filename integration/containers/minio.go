package containers

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// MinIO credentials and region of the test server.
const (
	minioAccessKey = "binlake"
	minioSecretKey = "binlake-secret"
	minioRegion    = "us-east-1"
)

// MinIO is a running MinIO server (S3 API, path-style addressing).
type MinIO struct {
	Endpoint  string // "http://127.0.0.1:port"
	AccessKey string
	SecretKey string
	Region    string
}

// MinIOServer returns the shared MinIO, starting it on first use.
func MinIOServer(t testing.TB) *MinIO {
	t.Helper()
	return shared(t, "minio", func(ctx context.Context) (any, error) { return startMinIO(ctx) }).(*MinIO)
}

func startMinIO(ctx context.Context) (*MinIO, error) {
	img, err := imageFor("minio")
	if err != nil {
		return nil, err
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	console, err := freePort()
	if err != nil {
		return nil, err
	}
	m := &MinIO{
		Endpoint:  "http://127.0.0.1:" + strconv.Itoa(port),
		AccessKey: minioAccessKey,
		SecretKey: minioSecretKey,
		Region:    minioRegion,
	}
	c, err := startContainer(ctx, spec{
		role:  "minio",
		image: img,
		env: map[string]string{
			"MINIO_ROOT_USER":     minioAccessKey,
			"MINIO_ROOT_PASSWORD": minioSecretKey,
			"MINIO_REGION":        minioRegion,
			"MINIO_BROWSER":       "off",
		},
		cmd: []string{"server", "/data",
			"--address", "127.0.0.1:" + strconv.Itoa(port),
			"--console-address", "127.0.0.1:" + strconv.Itoa(console)},
	})
	if err != nil {
		return nil, err
	}
	if err := waitReady(ctx, c, "MinIO on "+m.Endpoint, m.probe); err != nil {
		return nil, err
	}
	return m, nil
}

// Client returns an S3 client for the server.
func (m *MinIO) Client() *s3.Client {
	return s3.New(s3.Options{
		BaseEndpoint: aws.String(m.Endpoint),
		Region:       m.Region,
		Credentials:  credentials.NewStaticCredentialsProvider(m.AccessKey, m.SecretKey, ""),
		UsePathStyle: true,
	})
}

// probe succeeds when the health endpoint answers and a bucket can be created.
func (m *MinIO) probe(ctx context.Context) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, m.Endpoint+"/minio/health/ready", nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("checking health: %w", err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("checking health: status %s", resp.Status)
	}
	return m.createBucket(ctx, "binlake-ready")
}

func (m *MinIO) createBucket(ctx context.Context, name string) error {
	_, err := m.Client().CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(name)})
	var owned *types.BucketAlreadyOwnedByYou
	if err != nil && !errors.As(err, &owned) {
		return fmt.Errorf("creating bucket %s: %w", name, err)
	}
	return nil
}

var bucketSeq atomic.Int64

var unsafeBucket = regexp.MustCompile(`[^a-z0-9-]+`)

// NewBucket creates a fresh, uniquely named bucket and returns its name.
func (m *MinIO) NewBucket(t testing.TB) string {
	t.Helper()
	base := strings.Trim(unsafeBucket.ReplaceAllString(strings.ToLower(t.Name()), "-"), "-")
	if len(base) > 40 {
		base = strings.Trim(base[:40], "-")
	}
	name := fmt.Sprintf("t-%s-%d", base, bucketSeq.Add(1))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := m.createBucket(ctx, name); err != nil {
		t.Fatalf("creating bucket on %s: %v", m.Endpoint, err)
	}
	return name
}
