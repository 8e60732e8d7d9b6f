//go:build integration

package iceberg_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/binlake/binlake/integration/containers"
	"github.com/binlake/binlake/sink/lake"
	lakeiceberg "github.com/binlake/binlake/sink/lake/iceberg"
)

func TestMain(m *testing.M) {
	code := m.Run()
	containers.TerminateAll()
	os.Exit(code)
}

// TestS3WarehouseOnMinIO runs the upsert model test against an s3://
// warehouse on MinIO (path-style), restarts the task (offsets come back from
// the snapshot summary), compacts, and reads the table with iceberg-go and
// pyiceberg.
func TestS3WarehouseOnMinIO(t *testing.T) {
	minio := containers.MinIOServer(t)
	bucket := minio.NewBucket(t)
	dir := t.TempDir()
	ctx := context.Background()
	cfg := taskConfig(dir, map[string]string{
		lake.KeyWarehouse:         "s3://" + bucket + "/lake",
		lake.KeyS3Endpoint:        minio.Endpoint,
		lake.KeyS3Region:          minio.Region,
		lake.KeyS3AccessKeyID:     minio.AccessKey,
		lake.KeyS3SecretAccessKey: minio.SecretKey,
		lake.KeyS3PathStyle:       "true",
	})
	feed := newFeed(71, itemsTable(1), 2)
	cols := columnNames(feed.tbl)

	task, _ := startTask(t, dir, cfg)
	if _, err := task.Open(ctx, feed.queueIDs()); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		mustPut(t, task, feed.next(200, 100))
		mustFlush(t, task)
	}
	_ = task.Stop(ctx)

	task2, f2 := startTask(t, dir, cfg)
	offsets, err := task2.Open(ctx, feed.queueIDs())
	if err != nil {
		t.Fatal(err)
	}
	for q, want := range feed.positions() {
		if offsets[q] != want {
			t.Errorf("Open offset of queue %d = %d, want %d", q.Queue, offsets[q], want)
		}
	}
	mustPut(t, task2, feed.next(200, 100))
	mustFlush(t, task2)
	want := modelLines(feed.tbl, feed.model, cols)
	diffLines(t, "S3 table", scanLines(t, f2, itemsIdent, cols), want)

	res, err := f2.MaintainNow(ctx, "shop", "items")
	if err != nil {
		t.Fatalf("maintaining: %v", err)
	}
	if res.RemainingDeleteFiles != 0 {
		t.Errorf("%d delete files remain after compaction", res.RemainingDeleteFiles)
	}
	diffLines(t, "S3 table after compaction", scanLines(t, f2, itemsIdent, cols), want)

	// The files are in the bucket, not on local disk.
	out, err := minio.Client().ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String("lake/")})
	if err != nil {
		t.Fatalf("listing bucket: %v", err)
	}
	var parquet int
	for _, o := range out.Contents {
		if strings.HasSuffix(aws.ToString(o.Key), ".parquet") {
			parquet++
		}
	}
	if parquet == 0 {
		t.Errorf("no parquet files under s3://%s/lake/", bucket)
	}
	_ = task2.Stop(ctx)
	diffLines(t, "pyiceberg on S3", pyicebergRead(t, filepath.Join(dir, lakeiceberg.CatalogFile), "s3://"+bucket+"/lake", itemsIdent, cols,
		"s3.endpoint="+minio.Endpoint, "s3.region="+minio.Region, "s3.access-key-id="+minio.AccessKey,
		"s3.secret-access-key="+minio.SecretKey, "s3.force-virtual-addressing=false"), want)
}
