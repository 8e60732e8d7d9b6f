//go:build integration

package integration

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/binlake/binlake/connect"
	"github.com/binlake/binlake/integration/containers"
	"github.com/binlake/binlake/integration/workerproc"
)

// verifyTypesDDL is a table of every common MySQL type.
const verifyTypesDDL = `CREATE TABLE alltypes (
	id INT PRIMARY KEY,
	d65 DECIMAL(65,30) NULL, d10 DECIMAL(10,2) NULL, bu BIGINT UNSIGNED NULL, iu INT UNSIGNED NULL,
	ti TINYINT NULL, su SMALLINT UNSIGNED NULL, mi MEDIUMINT NULL, bi BIGINT NULL,
	f FLOAT NULL, db DOUBLE NULL,
	dt DATETIME(6) NULL, ts TIMESTAMP(6) NULL, dd DATE NULL, tm TIME(6) NULL, yr YEAR NULL,
	vc VARCHAR(50) NULL, tx TEXT NULL, bn BINARY(4) NULL, vb VARBINARY(10) NULL, bl BLOB NULL,
	js JSON NULL, en ENUM('a','b','c') NULL, st SET('x','y','z') NULL,
	b1 BIT(1) NULL, b64 BIT(64) NULL, g GEOMETRY NULL,
	dz DATE NOT NULL DEFAULT '2000-01-01', dtz DATETIME NULL
) DEFAULT CHARSET=utf8mb4`

// verifyKeyedDDL has a composite key whose string part sorts differently
// under the collation and by byte.
const verifyKeyedDDL = `CREATE TABLE keyed (
	region VARCHAR(20) NOT NULL, n INT NOT NULL, label VARCHAR(40) NULL, amount DECIMAL(12,4) NOT NULL,
	PRIMARY KEY (region, n)
) DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci`

// insertAllTypes writes rows base+1..base+n of alltypes: an edge-value
// row, an all-NULL row, a zero-date row, then generated rows. The session
// runs in +05:30 with an empty sql_mode (zero dates allowed).
func insertAllTypes(t *testing.T, db execer, base, n int) {
	t.Helper()
	stmts := []string{
		`INSERT INTO alltypes (id,d65,d10,bu,iu,ti,su,mi,bi,f,db,dt,ts,dd,tm,yr,vc,tx,bn,vb,bl,js,en,st,b1,b64,g,dz,dtz) VALUES (%d,
			'12345678901234567890123456789012345.123456789012345678901234567890', -12345678.91, 18446744073709551615, 4294967295,
			-128, 65535, -8388608, -9223372036854775808, 1.5, -2.5e-300,
			'1969-07-20 20:17:40.123456', '2024-01-01 10:00:00.123456', '2024-02-29', '-838:59:59.000000', 2155,
			'héllo 🌍', '', x'0102', x'00ff', x'deadbeef',
			'{"a": [1, 2.5, "x"], "b": null}', 'b', 'z,x', b'1', b'1000000000000000000000000000000000000000000000000000000000000001',
			ST_GeomFromText('POINT(1 2)'), '2001-02-03', '2020-05-06 07:08:09')`,
		`INSERT INTO alltypes (id) VALUES (%d)`,
		`INSERT INTO alltypes (id, dd, dt, ts, dz, dtz) VALUES (%d, '0000-00-00', '0000-00-00 00:00:00', '0000-00-00 00:00:00', '0000-00-00', '0000-00-00 00:00:00')`,
	}
	for i := range n {
		id := base + 1 + i
		q := `INSERT INTO alltypes (id,d65,d10,bu,iu,ti,su,mi,bi,f,db,dt,ts,dd,tm,yr,vc,tx,bn,vb,bl,js,en,st,b1,b64,g,dz,dtz) VALUES (%d,
			'%d.5', %d.25, %d, %d, %d, %d, %d, %d, %d.125, %d.0625,
			'2024-03-%02d 01:02:03.%06d', '2024-03-%02d 04:05:06', '2023-12-%02d', '%02d:30:00.5', %d,
			'name-%d', 'text %d', x'0%d', x'%02x', x'ab%02x',
			'{"k": %d, "list": [%d, "v"]}', 'c', 'y', b'0', b'%b', ST_GeomFromText('POINT(%d 3)'), '2010-10-%02d', NULL)`
		if i < len(stmts) {
			q = stmts[i]
			q = fmt.Sprintf(q, id)
		} else {
			d := i%28 + 1
			q = fmt.Sprintf(q, id, id, id, uint64(id)*1_000_000_007, id, i%100, id, -id, id*1000, i, -i, d, i, d, d, i%24, 1901+i%200,
				id, id, i%10, i%256, i%256, id, i, i, id, d)
		}
		if _, err := db.ExecContext(t.Context(), q); err != nil {
			t.Fatalf("inserting row %d: %v\n%s", id, err, q)
		}
	}
}

type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// runVerify runs `binlake verify` and returns its exit code and output.
func runVerifyCmd(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	cmd := exec.Command(workerproc.Binary(t), append([]string{"verify"}, args...)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		return ee.ExitCode(), stdout.String(), stderr.String()
	case err != nil:
		t.Fatalf("running binlake verify: %v", err)
	}
	return 0, stdout.String(), stderr.String()
}

// TestVerifyMySQLToIceberg replicates a table of every common type (snapshot
// rows, then streamed inserts, updates and deletes, so the lake holds
// equality deletes) and a composite-key table with the real worker, checks
// that `binlake verify` finds them equal, then changes one row in MySQL
// with the worker stopped and checks that verify names that key and column.
func TestVerifyMySQLToIceberg(t *testing.T) { verifyScenario(t, containers.MySQL8, false, "iceberg") }

// TestVerifyMariaDBToS3 is the same scenario from MariaDB into an s3://
// warehouse on MinIO.
func TestVerifyMariaDBToS3(t *testing.T) { verifyScenario(t, containers.MariaDB, true, "iceberg") }

// TestVerifyHudi is the same scenario into Hudi copy-on-write tables.
func TestVerifyHudi(t *testing.T) { verifyScenario(t, containers.MySQL8, false, "hudi") }

func verifyScenario(t *testing.T, flavor containers.Flavor, s3 bool, format string) {
	ctx := t.Context()
	my := containers.MySQLServer(t, flavor)
	mq := containers.RocketMQServer(t)
	dbName, db := openNewDatabase(t, my)
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	for _, q := range []string{"SET time_zone='+05:30'", "SET sql_mode=''", verifyTypesDDL, verifyKeyedDDL} {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	insertAllTypes(t, conn, 0, 60)
	for i := range 200 {
		region := []string{"apac", "Emea", "amer", "ÉU", "b"}[i%5]
		if _, err := conn.ExecContext(ctx, "INSERT INTO keyed VALUES (?, ?, ?, ?)", region, i, fmt.Sprintf("label %d", i), fmt.Sprintf("%d.%04d", i, i)); err != nil {
			t.Fatal(err)
		}
	}

	lakeDir := workerproc.TestDir(t, "lake")
	sqlite := filepath.Join(lakeDir, "catalog.db")
	warehouse := "file://" + filepath.Join(lakeDir, "warehouse")
	lakeArgs := []string{"--iceberg.catalog.uri", sqlite}
	sinkConfig := map[string]string{}
	if s3 {
		minio := containers.MinIOServer(t)
		warehouse = "s3://" + minio.NewBucket(t) + "/lake"
		sinkConfig = map[string]string{
			"s3.endpoint": minio.Endpoint, "s3.region": minio.Region, "s3.access-key-id": minio.AccessKey,
			"s3.secret-access-key": minio.SecretKey, "s3.path-style-access": "true",
		}
	}
	for k, v := range sinkConfig {
		lakeArgs = append(lakeArgs, "--"+k+"="+v) // "=": s3.path-style-access is a bool flag
	}
	lakeArgs = append(lakeArgs, "--iceberg.warehouse", warehouse, "--lake.format", format)
	sinkConfig["lake.format"] = format
	w := workerproc.Start(t, workerproc.Options{NamesrvAddr: mq.NamesrvAddr})
	w.MustDo("POST", "/connectors/vf-source", sourceConfig(my, dbName, "vf", nil), 201)
	sinkConfig["connector.class"] = "lake-sink"
	sinkConfig["connect.topicnames"] = connect.TopicName("vf", dbName, "alltypes") + "," + connect.TopicName("vf", dbName, "keyed")
	sinkConfig["write.mode"] = "upsert"
	sinkConfig["iceberg.catalog.uri"] = sqlite
	sinkConfig["iceberg.warehouse"] = warehouse
	sinkConfig["commit.interval.ms"] = "500"
	sinkConfig["maintenance.interval.ms"] = "0" // no compaction: the lake keeps its equality deletes
	w.MustDo("POST", "/connectors/vf-sink", sinkConfig, 201)

	// Streamed changes: inserts of every type, updates and deletes.
	insertAllTypes(t, conn, 1000, 10)
	for _, q := range []string{
		"UPDATE alltypes SET vc = CONCAT(vc, '-upd'), d10 = d10 * 2, ts = '2025-06-07 08:09:10.5' WHERE id % 7 = 0",
		"DELETE FROM alltypes WHERE id % 11 = 0",
		"UPDATE alltypes SET js = '{\"z\": 1, \"a\": [true, null]}', b64 = b'101' WHERE id IN (1, 1004)",
		"UPDATE keyed SET label = NULL, amount = amount + 0.0001 WHERE n % 9 = 0",
		"DELETE FROM keyed WHERE n % 13 = 0",
		"INSERT INTO keyed VALUES ('Emea', 1000, 'late', 1.5)",
	} {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}

	args := []string{
		"--mysql.host", my.Host, "--mysql.port", fmt.Sprint(my.Port), "--mysql.user", my.User, "--mysql.password", my.Password,
		"--databases", dbName, "--ranges", "8",
	}
	args = append(args, lakeArgs...)
	code, out, errOut := runVerifyCmd(t, append(args, "--wait", "4m", "--wait.interval", "1s")...)
	t.Logf("binlake verify (caught up):\n%s%s", out, errOut)
	if code != 0 {
		t.Fatalf("verify after the sink caught up exited %d, want 0\nstdout:\n%s\nstderr:\n%s\nworker log:\n%s", code, out, errOut, w.Log())
	}
	for _, tbl := range []string{"alltypes", "keyed"} {
		if !strings.Contains(out, dbName+"."+tbl) {
			t.Errorf("the report does not list %s.%s:\n%s", dbName, tbl, out)
		}
	}
	if strings.Count(out, " equal\n") != 2 {
		t.Errorf("want two equal tables:\n%s", out)
	}

	// Comparing nothing, or a table MySQL lacks, is an error, never "equal".
	code, _, errOut = runVerifyCmd(t, append(args, "--databases", "no_such_database")...)
	if code != 2 || !strings.Contains(errOut, "no table to compare") {
		t.Errorf("verify of a database without tables exited %d, want 2: %s", code, errOut)
	}
	code, out, _ = runVerifyCmd(t, append(args, "--tables", dbName+".no_such_table")...)
	if code != 2 || !strings.Contains(out, "MySQL has no table "+dbName+".no_such_table") {
		t.Errorf("verify of a missing MySQL table exited %d, want 2:\n%s", code, out)
	}

	// With the worker stopped, a change in MySQL is not replicated: verify
	// must find exactly that key and column.
	w.Stop(time.Minute)
	for _, q := range []string{
		"UPDATE alltypes SET d10 = 4242.42 WHERE id = 12",
		"DELETE FROM keyed WHERE region = 'Emea' AND n = 1000", // the lake keeps it: extra
		"INSERT INTO keyed VALUES ('apac', 5000, 'new', 2)",    // not in the lake: missing
	} {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	code, out, errOut = runVerifyCmd(t, args...)
	t.Logf("binlake verify (one row changed):\n%s", out)
	if code != 1 {
		t.Fatalf("verify after an unreplicated change exited %d, want 1\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	if !strings.Contains(out, "changed  id=12\n") || !strings.Contains(out, `d10: mysql "4242.42" | lake "12.25"`) {
		t.Errorf("the report does not name key id=12 and column d10:\n%s", out)
	}
	if !strings.Contains(out, "extra in lake  (region=Emea, n=1000)") || !strings.Contains(out, "missing in lake  (region=apac, n=5000)") {
		t.Errorf("the report does not name the extra and missing keys of keyed:\n%s", out)
	}

	code, out, errOut = runVerifyCmd(t, append(args, "--json")...)
	if code != 1 {
		t.Fatalf("verify --json exited %d, want 1: %s", code, errOut)
	}
	t.Logf("binlake verify --json:\n%s", out)
	var rep struct {
		Equal  bool `json:"equal"`
		Tables []struct {
			MySQLTable  string `json:"mysql_table"`
			Status      string `json:"status"`
			Differences int    `json:"differences"`
			Diffs       []struct {
				Kind    string `json:"kind"`
				Key     string `json:"key"`
				Columns []struct {
					Column string  `json:"column"`
					MySQL  *string `json:"mysql"`
					Lake   *string `json:"lake"`
				} `json:"columns"`
			} `json:"diffs"`
		} `json:"tables"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("decoding the JSON report: %v\n%s", err, out)
	}
	if rep.Equal || len(rep.Tables) != 2 {
		t.Fatalf("JSON report: %s", out)
	}
	for _, tr := range rep.Tables {
		switch tr.MySQLTable {
		case dbName + ".keyed":
			if tr.Status != "different" || tr.Differences != 2 || len(tr.Diffs) != 2 {
				t.Fatalf("keyed: %+v", tr)
			}
			// Listed in key order: by byte, "Emea" sorts before "apac".
			if tr.Diffs[0].Kind != "extra-in-lake" || tr.Diffs[0].Key != "(region=Emea, n=1000)" ||
				tr.Diffs[1].Kind != "missing-in-lake" || tr.Diffs[1].Key != "(region=apac, n=5000)" {
				t.Errorf("keyed diffs: %+v", tr.Diffs)
			}
		case dbName + ".alltypes":
			if tr.Status != "different" || tr.Differences != 1 || len(tr.Diffs) != 1 {
				t.Fatalf("alltypes: %+v", tr)
			}
			d := tr.Diffs[0]
			if d.Kind != "changed" || d.Key != "id=12" || len(d.Columns) != 1 || d.Columns[0].Column != "d10" ||
				d.Columns[0].MySQL == nil || *d.Columns[0].MySQL != "4242.42" || d.Columns[0].Lake == nil || *d.Columns[0].Lake != "12.25" {
				t.Errorf("alltypes diff: %+v", d)
			}
		default:
			t.Errorf("unexpected table %s", tr.MySQLTable)
		}
	}
}
