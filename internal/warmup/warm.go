package warmup
import (
 _ "github.com/go-mysql-org/go-mysql/replication"
 _ "github.com/go-mysql-org/go-mysql/client"
 _ "github.com/apache/rocketmq-client-go/v2"
 _ "github.com/apache/rocketmq-client-go/v2/admin"
 _ "github.com/apache/iceberg-go/table"
 _ "github.com/apache/iceberg-go/catalog/sql"
 _ "github.com/apache/iceberg-go/catalog/rest"
 _ "github.com/apache/iceberg-go/io/gocloud"
 _ "github.com/apache/arrow-go/v18/parquet/pqarrow"
 _ "github.com/linkedin/goavro/v2"
 _ "github.com/gin-gonic/gin"
 _ "github.com/prometheus/client_golang/prometheus"
 _ "github.com/testcontainers/testcontainers-go"
 _ "github.com/pingcap/tidb/pkg/parser"
 _ "github.com/expr-lang/expr"
)

