//go:build integration

package hudi

import (
	"context"
	"errors"
	"os"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"gocloud.dev/blob/s3blob"

	"github.com/binlake/binlake/integration/containers"
)

func TestMain(m *testing.M) {
	code := m.Run()
	containers.TerminateAll()
	os.Exit(code)
}

// TestWriterOnMinIO writes a table to S3 (MinIO) through gocloud.dev's
// s3blob, survives a crash, and checks the content with hudi-rs reading
// s3:// and with this package's reader.
func TestWriterOnMinIO(t *testing.T) {
	ctx := context.Background()
	minio := containers.MinIOServer(t)
	bucketName := minio.NewBucket(t)
	bucket, err := s3blob.OpenBucket(ctx, minio.Client(), bucketName, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer bucket.Close()
	tbl := ordersTable()
	opts := Options{Bucket: bucket, BasePath: "lake/shop/orders", Table: tbl, PartitionField: "region", MaxFileBytes: 16 << 10, SmallFileBytes: 12 << 10}
	w, err := Open(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	m := model{}
	if _, err := w.Commit(ctx, tbl, upserts(ids(1, 301), 1, m, w.keys), meta(1)); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Commit(ctx, tbl, append(upserts(ids(250, 350), 2, m, w.keys), deletes(ids(1, 20), m, w.keys)...), meta(2)); err != nil {
		t.Fatal(err)
	}
	testHookBeforeComplete = func(string) error { return errors.New("simulated crash") }
	_, err = w.Commit(ctx, tbl, upserts(ids(1, 100), 9, model{}, w.keys), meta(3))
	testHookBeforeComplete = nil
	if err == nil {
		t.Fatal("the crashing commit succeeded")
	}
	w2, err := Open(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	last, ok, err := w2.LastCommitted(ctx)
	if err != nil || !ok || last.Meta[MetaCommitID] != "commit-2" {
		t.Fatalf("LastCommitted = %+v %v %v, want commit-2", last, ok, err)
	}
	if _, err := w2.Commit(ctx, tbl, upserts(ids(1, 100), 4, m, w2.keys), meta(4)); err != nil {
		t.Fatal(err)
	}
	res := readWithHudiRSOptions(t, "s3://"+bucketName+"/lake/shop/orders", map[string]string{
		"aws_endpoint_url": minio.Endpoint, "aws_access_key_id": minio.AccessKey, "aws_secret_access_key": minio.SecretKey,
		"aws_region": minio.Region, "aws_allow_http": "true",
	})
	assertMatches(t, res, tbl, w2.keys, m)
	if res.LatestExtra[MetaCommitID] != "commit-4" {
		t.Errorf("hudi-rs sees commit %q, want commit-4", res.LatestExtra[MetaCommitID])
	}
	seen := map[string]bool{}
	err = ReadSnapshot(ctx, bucket, opts.BasePath, func(rec arrow.RecordBatch) error {
		keys := rec.Column(rec.Schema().FieldIndices(FieldRecordKey)[0]).(*array.String)
		for i := 0; i < keys.Len(); i++ {
			seen[keys.Value(i)] = true
		}
		return nil
	})
	if err != nil || len(seen) != len(m) {
		t.Errorf("ReadSnapshot saw %d keys (%v), model has %d", len(seen), err, len(m))
	}
}
