package main

import (
	"bytes"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/binlake/binlake/internal/verify"
)

func TestVerifyFlags(t *testing.T) {
	env := map[string]string{}
	getenv := func(k string) string { return env[k] }
	if _, err := parseVerifyFlags(nil, getenv, io.Discard); err == nil || !strings.Contains(err.Error(), "iceberg.catalog.uri") {
		t.Errorf("missing catalog uri: %v", err)
	}
	env["BINLAKE_ICEBERG_CATALOG_URI"] = "/data/iceberg_catalog.db"
	c, err := parseVerifyFlags(nil, getenv, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.mysql.Host != "127.0.0.1" || c.mysql.Port != 3306 || c.mysql.User != "root" || c.opts.Ranges != verify.DefaultRanges ||
		c.opts.MaxKeys != verify.DefaultMaxKeys || c.lake.TableNameFormat != "{table}" || c.lake.CatalogName != "binlake" ||
		!c.lake.S3PathStyle || c.json || c.wait != 0 || len(c.sel.Tables)+len(c.sel.Databases) != 0 {
		t.Errorf("defaults = %+v", c)
	}
	env["BINLAKE_MYSQL_HOST"] = "db.internal"
	env["BINLAKE_MYSQL_PORT"] = "3307"
	env["BINLAKE_MYSQL_PASSWORD"] = "secret"
	env["BINLAKE_RANGES"] = "64"
	env["BINLAKE_JSON"] = "true"
	env["BINLAKE_DATABASES"] = "shop, crm"
	env["BINLAKE_S3_SECRET_ACCESS_KEY"] = "s3secret"
	c, err = parseVerifyFlags([]string{"--mysql.port", "3308", "--tables", "shop.items,crm.people", "--wait", "30s", "--max-keys", "5"}, getenv, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.mysql.Host != "db.internal" || c.mysql.Port != 3308 || c.mysql.Password != "secret" || c.opts.Ranges != 64 || !c.json ||
		c.wait != 30*time.Second || c.opts.MaxKeys != 5 || c.lake.S3SecretAccessKey != "s3secret" {
		t.Errorf("env and flags = %+v", c)
	}
	if len(c.sel.Databases) != 2 || c.sel.Databases[1] != "crm" {
		t.Errorf("databases = %q", c.sel.Databases)
	}
	if len(c.sel.Tables) != 2 || c.sel.Tables[1] != (verify.TableRef{DB: "crm", Name: "people"}) {
		t.Errorf("tables = %v", c.sel.Tables)
	}
	for _, bad := range [][]string{
		{"--tables", "items"},
		{"--ranges", "0"},
		{"--iceberg.catalog.type", "hive"},
		{"--iceberg.table.name.format", "{db}"},
		{"--mysql.port", "0"},
		{"--lake.format", "delta"},
		{"--lake.format", "hudi"}, // hudi needs the warehouse
		{"--max-diff-rows", "0"},
		{"extra"},
	} {
		if _, err := parseVerifyFlags(bad, getenv, io.Discard); err == nil {
			t.Errorf("%q was accepted", bad)
		}
	}
	c, err = parseVerifyFlags([]string{"--lake.format", "hudi", "--iceberg.warehouse", "s3://b/lake"}, getenv, io.Discard)
	if err != nil || c.lake.Format != "hudi" || c.lake.Warehouse != "s3://b/lake" {
		t.Errorf("hudi flags: %+v, %v", c, err)
	}
	env["BINLAKE_RANGES"] = "many"
	if _, err := parseVerifyFlags(nil, getenv, io.Discard); err == nil || !strings.Contains(err.Error(), "BINLAKE_RANGES") {
		t.Errorf("bad env value: %v", err)
	}
}

func TestVerifyExitCodes(t *testing.T) {
	var out, errOut bytes.Buffer
	noenv := func(string) string { return "" }
	if code := runVerify([]string{"-h"}, noenv, &out, &errOut); code != 0 || !strings.Contains(errOut.String(), "Exit code") {
		t.Errorf("-h: exit %d, output %q", code, errOut.String())
	}
	errOut.Reset()
	if code := runVerify([]string{"--ranges", "x"}, noenv, &out, &errOut); code != 2 {
		t.Errorf("a bad flag exits %d, want 2", code)
	}
	// A catalog file that does not exist is an error, not a difference.
	errOut.Reset()
	missing := filepath.Join(t.TempDir(), "none.db")
	if code := runVerify([]string{"--iceberg.catalog.uri", missing, "--mysql.port", "1"}, noenv, &out, &errOut); code != 2 {
		t.Errorf("a missing catalog exits %d, want 2 (%s)", code, errOut.String())
	}
	if !strings.Contains(errOut.String(), "none.db") {
		t.Errorf("error output %q does not name the catalog file", errOut.String())
	}
}
