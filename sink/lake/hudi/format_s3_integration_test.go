//go:build integration

package hudi

import (
	"context"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"gocloud.dev/blob/s3blob"

	"github.com/binlake/binlake/connect"
	"github.com/binlake/binlake/integration/containers"
	"github.com/binlake/binlake/sink/lake"
)

// TestLakeTaskHudiOnMinIO drives the lake-sink task with lake.format=hudi
// and an s3:// warehouse on MinIO: commits, a restart resuming from the
// committed offsets, and the table read by hudi-rs and ReadSnapshot.
func TestLakeTaskHudiOnMinIO(t *testing.T) {
	ctx := context.Background()
	minio := containers.MinIOServer(t)
	bucketName := minio.NewBucket(t)
	dir := t.TempDir()
	cfg := lakeConfig(dir, string(lake.ModeUpsert))
	cfg[lake.KeyWarehouse] = "s3://" + bucketName + "/wh"
	cfg[lake.KeyS3Endpoint] = minio.Endpoint
	cfg[lake.KeyS3Region] = minio.Region
	cfg[lake.KeyS3AccessKeyID] = minio.AccessKey
	cfg[lake.KeyS3SecretAccessKey] = minio.SecretKey
	v1 := ordersTable()
	f := newLakeFeed(t)

	task := startLakeTask(t, dir, cfg)
	openLakeTask(t, task, [2]int64{-1, -1})
	var recs []connect.SinkRecord
	for _, id := range ids(1, 40) {
		recs = append(recs, f.upsert(v1, id, 1))
	}
	putFlush(t, task, recs)
	recs = nil
	for _, id := range ids(30, 50) {
		recs = append(recs, f.upsert(v1, id, 2))
	}
	recs = append(recs, f.delete(v1, 5))
	putFlush(t, task, recs)
	if err := task.Stop(ctx); err != nil {
		t.Fatal(err)
	}

	task = startLakeTask(t, dir, cfg)
	openLakeTask(t, task, f.offsets)
	putFlush(t, task, append(f.log, f.upsert(v1, 60, 3)))

	res := readWithHudiRSOptions(t, "s3://"+bucketName+"/wh/shop/orders", map[string]string{
		"aws_endpoint_url": minio.Endpoint, "aws_access_key_id": minio.AccessKey, "aws_secret_access_key": minio.SecretKey,
		"aws_region": minio.Region, "aws_allow_http": "true",
	})
	assertMatches(t, res, v1, f.kg, f.model)
	if len(res.Commits) != 3 {
		t.Errorf("hudi-rs sees %d commits, want 3", len(res.Commits))
	}
	bucket, err := s3blob.OpenBucket(ctx, minio.Client(), bucketName, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer bucket.Close()
	seen := 0
	err = ReadSnapshot(ctx, bucket, "wh/shop/orders", func(rec arrow.RecordBatch) error {
		seen += rec.Column(rec.Schema().FieldIndices(FieldRecordKey)[0]).(*array.String).Len()
		return nil
	})
	if err != nil || seen != len(f.model) {
		t.Errorf("ReadSnapshot read %d rows (%v), the model has %d", seen, err, len(f.model))
	}
}
