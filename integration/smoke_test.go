//go:build integration

// Package integration holds binlake's end-to-end tests against real servers started by
// package integration/containers. Run with: go test -tags integration ./integration/
package integration

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/catalog"
	sqlcat "github.com/apache/iceberg-go/catalog/sql"
	iceio "github.com/apache/iceberg-go/io"
	_ "github.com/apache/iceberg-go/io/gocloud/s3" // registers the s3:// file IO
	"github.com/apache/rocketmq-client-go/v2/consumer"
	"github.com/apache/rocketmq-client-go/v2/primitive"
	"github.com/apache/rocketmq-client-go/v2/producer"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	gomysql "github.com/go-mysql-org/go-mysql/mysql"
	"github.com/go-mysql-org/go-mysql/replication"
	_ "github.com/go-sql-driver/mysql"
	_ "modernc.org/sqlite"

	"github.com/binlake/binlake/integration/containers"
)

func TestMain(m *testing.M) {
	code := m.Run()
	containers.TerminateAll()
	os.Exit(code)
}

func TestSmokeMySQL8Binlog(t *testing.T)  { smokeBinlog(t, containers.MySQL8) }
func TestSmokeMariaDBBinlog(t *testing.T) { smokeBinlog(t, containers.MariaDB) }

// smokeBinlog inserts a row and reads it back as a row event from the binlog, in GTID mode, and
// checks that the server's GTID set advanced by the event's transaction.
func smokeBinlog(t *testing.T, f containers.Flavor) {
	srv := containers.MySQLServer(t, f)
	dbName := srv.NewDatabase(t)
	db, err := sql.Open("mysql", srv.DSN(dbName))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if _, err := db.ExecContext(ctx, "CREATE TABLE items (id INT PRIMARY KEY, name VARCHAR(64) NOT NULL)"); err != nil {
		t.Fatalf("creating table: %v", err)
	}

	before := gtidSet(ctx, t, db, f)
	syncer := replication.NewBinlogSyncer(replication.BinlogSyncerConfig{
		ServerID:   uint32(5000 + time.Now().UnixNano()%10000),
		Flavor:     string(f),
		Host:       srv.Host,
		Port:       uint16(srv.Port),
		User:       srv.User,
		Password:   srv.Password,
		UseDecimal: true,
		Logger:     slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	defer syncer.Close()
	streamer, err := syncer.StartSyncGTID(before)
	if err != nil {
		t.Fatalf("starting binlog sync at %s: %v", before, err)
	}

	name := "row-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	if _, err := db.ExecContext(ctx, "INSERT INTO items (id, name) VALUES (?, ?)", 42, name); err != nil {
		t.Fatalf("inserting: %v", err)
	}
	var got string
	if err := db.QueryRowContext(ctx, "SELECT name FROM items WHERE id = 42").Scan(&got); err != nil || got != name {
		t.Fatalf("reading the row back: %q, %v", got, err)
	}

	var txGTID gomysql.GTIDSet
	for {
		ev, err := streamer.GetEvent(ctx)
		if err != nil {
			t.Fatalf("reading binlog: %v", err)
		}
		switch e := ev.Event.(type) {
		case *replication.GTIDEvent:
			if txGTID, err = e.GTIDNext(); err != nil {
				t.Fatalf("decoding GTID: %v", err)
			}
		case *replication.MariadbGTIDEvent:
			if txGTID, err = e.GTIDNext(); err != nil {
				t.Fatalf("decoding GTID: %v", err)
			}
		case *replication.RowsEvent:
			if string(e.Table.Schema) != dbName || string(e.Table.Table) != "items" {
				continue
			}
			if ev.Header.EventType != replication.WRITE_ROWS_EVENTv2 && ev.Header.EventType != replication.WRITE_ROWS_EVENTv1 {
				t.Fatalf("first row event on items is %s, want a write", ev.Header.EventType)
			}
			if cols := e.Table.ColumnNameString(); !slices.Equal(cols, []string{"id", "name"}) {
				t.Errorf("table map column names = %v, want [id name] (binlog_row_metadata=FULL)", cols)
			}
			if len(e.Rows) != 1 || len(e.Rows[0]) != 2 {
				t.Fatalf("rows = %v, want one row of two columns", e.Rows)
			}
			if id, ok := e.Rows[0][0].(int32); !ok || id != 42 {
				t.Errorf("id = %#v, want int32 42", e.Rows[0][0])
			}
			if v := fmt.Sprint(e.Rows[0][1]); v != name {
				t.Errorf("name = %q, want %q", v, name)
			}
			if txGTID == nil {
				t.Fatal("row event without a preceding GTID event")
			}
			after := gtidSet(ctx, t, db, f)
			t.Logf("%s: GTID set %q -> %q (row event in transaction %s)", f, before, after, txGTID)
			if after.Equal(before) || !after.Contain(before) {
				t.Errorf("GTID set did not advance: before %q, after %q", before, after)
			}
			if !after.Contain(txGTID) || before.Contain(txGTID) {
				t.Errorf("transaction %s: want it in %q and not in %q", txGTID, after, before)
			}
			return
		}
	}
}

// gtidSet returns the server's executed GTID set (MariaDB: @@gtid_binlog_pos).
func gtidSet(ctx context.Context, t *testing.T, db *sql.DB, f containers.Flavor) gomysql.GTIDSet {
	t.Helper()
	q := "SELECT @@GLOBAL.gtid_executed"
	if f == containers.MariaDB {
		q = "SELECT @@GLOBAL.gtid_binlog_pos"
	}
	var s string
	if err := db.QueryRowContext(ctx, q).Scan(&s); err != nil {
		t.Fatalf("reading GTID set: %v", err)
	}
	set, err := gomysql.ParseGTIDSet(string(f), s)
	if err != nil {
		t.Fatalf("parsing GTID set %q: %v", s, err)
	}
	return set
}

// TestSmokeRocketMQ sends keyed messages and consumes them with a push consumer.
func TestSmokeRocketMQ(t *testing.T) {
	srv := containers.RocketMQServer(t)
	topic := fmt.Sprintf("smoke_%d", time.Now().UnixNano())
	p, err := producer.NewDefaultProducer(
		producer.WithNameServer([]string{srv.NamesrvAddr}),
		producer.WithGroupName("smoke_producer"),
		producer.WithInstanceName(topic),
		producer.WithRetry(2),
	)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = p.Shutdown() }()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	want := map[string]string{}
	for i := range 10 {
		key, body := fmt.Sprintf("key-%d", i), fmt.Sprintf("body-%d-%s", i, topic)
		want[key] = body
		msg := primitive.NewMessage(topic, []byte(body))
		msg.WithKeys([]string{key})
		res, err := p.SendSync(ctx, msg)
		if err != nil {
			t.Fatalf("sending %s: %v", key, err)
		}
		if res.Status != primitive.SendOK {
			t.Fatalf("sending %s: status %d", key, res.Status)
		}
	}

	got := make(chan [2]string, 64)
	c, err := consumer.NewPushConsumer(
		consumer.WithNameServer([]string{srv.NamesrvAddr}),
		consumer.WithGroupName("smoke_consumer_"+topic),
		consumer.WithInstance(topic),
		consumer.WithConsumeFromWhere(consumer.ConsumeFromFirstOffset),
	)
	if err != nil {
		t.Fatal(err)
	}
	err = c.Subscribe(topic, consumer.MessageSelector{}, func(_ context.Context, msgs ...*primitive.MessageExt) (consumer.ConsumeResult, error) {
		for _, m := range msgs {
			select {
			case got <- [2]string{m.GetKeys(), string(m.Body)}:
			default:
			}
		}
		return consumer.ConsumeSuccess, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = c.Shutdown() }()
	seen := map[string]string{}
	for len(seen) < len(want) {
		select {
		case kv := <-got:
			seen[kv[0]] = kv[1]
		case <-ctx.Done():
			t.Fatalf("consumed %d of %d messages: %v", len(seen), len(want), seen)
		}
	}
	for k, v := range want {
		if seen[k] != v {
			t.Errorf("key %s: body %q, want %q", k, seen[k], v)
		}
	}
}

// TestSmokeMinIOIceberg creates an Iceberg table in the SQL catalog (SQLite) with its warehouse
// in MinIO, appends rows and reads them back with a scan.
func TestSmokeMinIOIceberg(t *testing.T) {
	srv := containers.MinIOServer(t)
	bucket := srv.NewBucket(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	sqldb, err := sql.Open("sqlite", "file:"+filepath.Join(t.TempDir(), "catalog.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer sqldb.Close()
	cat, err := sqlcat.NewCatalog("smoke", sqldb, sqlcat.SQLite, iceberg.Properties{
		"warehouse":             "s3://" + bucket + "/",
		iceio.S3EndpointURL:     srv.Endpoint,
		iceio.S3Region:          srv.Region,
		iceio.S3AccessKeyID:     srv.AccessKey,
		iceio.S3SecretAccessKey: srv.SecretKey,
	})
	if err != nil {
		t.Fatalf("opening SQL catalog: %v", err)
	}
	if err := cat.CreateNamespace(ctx, catalog.ToIdentifier("smoke"), nil); err != nil {
		t.Fatalf("creating namespace: %v", err)
	}
	schema := iceberg.NewSchemaWithIdentifiers(1, []int{1},
		iceberg.NestedField{ID: 1, Name: "id", Type: iceberg.PrimitiveTypes.Int64, Required: true},
		iceberg.NestedField{ID: 2, Name: "name", Type: iceberg.PrimitiveTypes.String},
	)
	tbl, err := cat.CreateTable(ctx, catalog.ToIdentifier("smoke", "items"), schema)
	if err != nil {
		t.Fatalf("creating table: %v", err)
	}
	if loc := tbl.Location(); len(loc) < 5 || loc[:5] != "s3://" {
		t.Fatalf("table location %q is not in s3", loc)
	}

	arrowSchema := arrow.NewSchema([]arrow.Field{
		{Name: "id", Type: arrow.PrimitiveTypes.Int64},
		{Name: "name", Type: arrow.BinaryTypes.String, Nullable: true},
	}, nil)
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer mem.AssertSize(t, 0)
	b := array.NewRecordBuilder(mem, arrowSchema)
	defer b.Release()
	want := map[int64]string{}
	for i := range int64(100) {
		want[i] = "name-" + strconv.FormatInt(i, 10)
		b.Field(0).(*array.Int64Builder).Append(i)
		b.Field(1).(*array.StringBuilder).Append(want[i])
	}
	rec := b.NewRecordBatch()
	defer rec.Release()
	rdr, err := array.NewRecordReader(arrowSchema, []arrow.RecordBatch{rec})
	if err != nil {
		t.Fatal(err)
	}
	defer rdr.Release()
	tbl, err = tbl.Append(ctx, rdr, nil)
	if err != nil {
		t.Fatalf("appending: %v", err)
	}

	loaded, err := cat.LoadTable(ctx, catalog.ToIdentifier("smoke", "items"))
	if err != nil {
		t.Fatalf("loading table: %v", err)
	}
	if loaded.CurrentSnapshot() == nil || loaded.CurrentSnapshot().SnapshotID != tbl.CurrentSnapshot().SnapshotID {
		t.Fatalf("catalog's snapshot %v, want the append's", loaded.CurrentSnapshot())
	}
	out, err := loaded.Scan().ToArrowTable(ctx)
	if err != nil {
		t.Fatalf("scanning: %v", err)
	}
	defer out.Release()
	got := map[int64]string{}
	tr := array.NewTableReader(out, 0)
	defer tr.Release()
	for tr.Next() {
		r := tr.RecordBatch()
		ids := r.Column(0).(*array.Int64)
		names := r.Column(1).(*array.String)
		for i := range int(r.NumRows()) {
			got[ids.Value(i)] = names.Value(i)
		}
	}
	if len(got) != len(want) {
		t.Fatalf("scan returned %d rows, want %d", len(got), len(want))
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("id %d: name %q, want %q", k, got[k], v)
		}
	}
	objs, err := srv.Client().ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: &bucket})
	if err != nil {
		t.Fatalf("listing bucket: %v", err)
	}
	if len(objs.Contents) == 0 {
		t.Fatal("no objects written to the bucket")
	}
	t.Logf("iceberg table %s: %d rows, %d objects in s3://%s", loaded.Location(), len(got), len(objs.Contents), bucket)
}
