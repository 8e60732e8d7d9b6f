package containers

import (
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/go-sql-driver/mysql"
)

func TestImageForPrefersEnvironmentOverImagesEnv(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("BINLAKE_CACHE", dir)
	env := "# comment\nBINLAKE_IMAGE_MYSQL=binlake-test/mysql:abc\nBINLAKE_IMAGE_MINIO=binlake-test/minio:def\n"
	if err := os.WriteFile(filepath.Join(dir, "images.env"), []byte(env), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("BINLAKE_IMAGE_MYSQL", "")
	t.Setenv("BINLAKE_IMAGE_MINIO", "minio/minio:RELEASE.2025")
	if got, err := imageFor("mysql"); err != nil || got != "binlake-test/mysql:abc" {
		t.Errorf("imageFor(mysql) = %q, %v; want the images.env entry", got, err)
	}
	if got, err := imageFor("minio"); err != nil || got != "minio/minio:RELEASE.2025" {
		t.Errorf("imageFor(minio) = %q, %v; want the environment's", got, err)
	}
	_, err := imageFor("rocketmq")
	if err == nil || !strings.Contains(err.Error(), "make images") {
		t.Errorf("imageFor(rocketmq) error = %v; want one that says to run make images", err)
	}
}

func TestImageForWithoutImagesEnv(t *testing.T) {
	t.Setenv("BINLAKE_CACHE", t.TempDir())
	t.Setenv("BINLAKE_IMAGE_MARIADB", "")
	if _, err := imageFor("mariadb"); err == nil || !strings.Contains(err.Error(), "make images") {
		t.Errorf("error = %v; want one that says to run make images", err)
	}
}

func TestMySQL80(t *testing.T) {
	for img, want := range map[string]bool{
		"mysql:8.0": true, "mysql:8.0.36": true, "mysql:8": true, "registry:5000/mysql:8.0-debian": true,
		"mysql:8.4": false, "mysql:9.1": false, "mysql": false, "registry:5000/mysql": false,
	} {
		if got := mysql80(img); got != want {
			t.Errorf("mysql80(%q) = %v, want %v", img, got, want)
		}
	}
}

func TestServerFlags(t *testing.T) {
	m := &MySQL{Port: 23456, ServerID: 7}
	maria := strings.Join(serverFlags(MariaDB, "mariadb:10.11", m), " ")
	for _, want := range []string{"--port=23456", "--server-id=7", "--binlog-format=ROW", "--binlog-row-metadata=FULL", "--bind-address=127.0.0.1"} {
		if !strings.Contains(maria, want) {
			t.Errorf("MariaDB flags %q lack %s", maria, want)
		}
	}
	if strings.Contains(maria, "gtid-mode") {
		t.Errorf("MariaDB flags %q carry MySQL's gtid-mode", maria)
	}
	my84 := strings.Join(serverFlags(MySQL8, "mysql:8.4", m), " ")
	if !strings.Contains(my84, "--gtid-mode=ON") || !strings.Contains(my84, "--mysql-native-password=ON") ||
		strings.Contains(my84, "default-authentication-plugin") {
		t.Errorf("MySQL 8.4 flags = %q", my84)
	}
	my80 := strings.Join(serverFlags(MySQL8, "binlake-test/mysql:x", m), " ")
	if !strings.Contains(my80, "--default-authentication-plugin=mysql_native_password") || strings.Contains(my80, "--mysql-native-password") {
		t.Errorf("local MySQL 8.0 flags = %q", my80)
	}
}

func TestDSN(t *testing.T) {
	m := &MySQL{Host: "127.0.0.1", Port: 3307, User: "root", Password: "p@ss:w/rd"}
	cfg, err := mysql.ParseDSN(m.DSN("db1"))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Addr != "127.0.0.1:3307" || cfg.User != "root" || cfg.Passwd != "p@ss:w/rd" || cfg.DBName != "db1" || cfg.ParseTime {
		t.Errorf("DSN parsed back as %+v", cfg)
	}
}

func TestFreePortGroupLeavesRoomAndNeverRepeats(t *testing.T) {
	seen := map[int]bool{}
	for range 20 {
		p, err := freePortGroup(2, 1)
		if err != nil {
			t.Fatal(err)
		}
		for q := p - 2; q <= p+1; q++ {
			if seen[q] {
				t.Fatalf("port %d handed out twice", q)
			}
			seen[q] = true
			l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(q))
			if err != nil {
				t.Fatalf("port %d of group %d is not free: %v", q, p, err)
			}
			_ = l.Close()
		}
	}
}
