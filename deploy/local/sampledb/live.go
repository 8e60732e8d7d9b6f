package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"time"
)

// liveResult is what the live run leaves for the lake check: the last
// order it inserted (then updated) and the last order it deleted.
type liveResult struct {
	Changes        int64  `json:"changes"`
	LastOrderID    int64  `json:"last_order_id"`
	LastOrderNote  string `json:"last_order_note"`
	LastOrderItems int    `json:"last_order_items"`
	DeletedOrderID int64  `json:"deleted_order_id"`
	CommittedAt    string `json:"committed_at"`
}

// liver makes the live changes.
type liver struct {
	db       *sql.DB
	database string
	r        *rand.Rand
	maxCust  int64
	maxProd  int64
	maxOrder int64
	changes  int64
}

func runLive(ctx context.Context, args []string) error {
	var c common
	fs := flag.NewFlagSet("sampledb live", flag.ContinueOnError)
	c.register(fs)
	duration := fs.Duration("duration", time.Minute, "how long to make changes (0: until interrupted)")
	txRate := fs.Float64("rate", 20, "transactions per second")
	every := fs.Duration("every", 5*time.Second, "pause between progress lines")
	result := fs.String("result", "", "write the last changes made as JSON to this file")
	source := fs.String("source", "mysql-source", "the source connector (for the lag)")
	sink := fs.String("sink", "lake-sink", "the sink connector (for the committed records)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *txRate <= 0 {
		return fmt.Errorf("-rate must be positive")
	}
	db, err := openDB(c.dsn, 2)
	if err != nil {
		return err
	}
	defer db.Close() //nolint:errcheck // closing at exit
	if err := ping(ctx, db, c.dsn); err != nil {
		return err
	}
	l := &liver{db: db, database: c.db, r: rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 7))}
	for _, m := range []struct {
		table string
		dst   *int64
	}{{"customers", &l.maxCust}, {"products", &l.maxProd}, {"orders", &l.maxOrder}} {
		q := fmt.Sprintf("SELECT COALESCE(MAX(id), 0) FROM `%s`.`%s`", c.db, m.table)
		if err := db.QueryRowContext(ctx, q).Scan(m.dst); err != nil {
			return fmt.Errorf("reading the largest id of %s.%s (run `sampledb load` first): %w", c.db, m.table, err)
		}
	}
	if l.maxCust == 0 || l.maxProd == 0 {
		return fmt.Errorf("%s has no customers or products: run `sampledb load` first", c.db)
	}
	runCtx := ctx
	if *duration > 0 {
		var cancel context.CancelFunc
		runCtx, cancel = context.WithTimeout(ctx, *duration)
		defer cancel()
	}
	p := newProber(c.rest)
	until := "until Ctrl-C"
	if *duration > 0 {
		until = "for " + duration.String()
	}
	fmt.Printf("making live changes to %s at %.0f transactions/s %s: new orders with items, status and price updates, deletes\n",
		c.db, *txRate, until)
	start := time.Now()
	interval := time.Duration(float64(time.Second) / *txRate)
	tick := time.NewTicker(interval)
	defer tick.Stop()
	report := time.NewTicker(*every)
	defer report.Stop()
	var prev sample
loop:
	for {
		select {
		case <-runCtx.Done():
			break loop
		case <-tick.C:
			if err := l.change(runCtx); err != nil {
				if runCtx.Err() != nil {
					break loop
				}
				return err
			}
		case <-report.C:
			cur, err := p.metrics(runCtx, *source, *sink)
			if err != nil {
				if runCtx.Err() != nil {
					break loop
				}
				fmt.Printf("[%s] live: %s changes | worker metrics unavailable: %v\n", since(start), thousands(l.changes), err)
				continue
			}
			lake := "-"
			if !prev.at.IsZero() {
				lake = thousands(int64(rate(prev, cur, func(s sample) float64 { return s.sinkRecords })))
			}
			fmt.Printf("[%s] live: %s changes (%.0f tx/s) | source lag %s | lake: %s records committed (%s/s)\n", since(start),
				thousands(l.changes), float64(l.changes)/time.Since(start).Seconds(), lagText(cur.lag), thousands(int64(cur.sinkRecords)), lake)
			prev = cur
		}
	}
	// Interrupted (Ctrl-C) or done: the last changes are made either way.
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	res, err := l.final(fctx)
	if err != nil {
		return err
	}
	fmt.Printf("made %s changes in %.0fs; the last: inserted order %d with %d item(s), then updated it (note %q); deleted order %d; committed at %s\n",
		thousands(res.Changes), time.Since(start).Seconds(), res.LastOrderID, res.LastOrderItems, res.LastOrderNote, res.DeletedOrderID, res.CommittedAt)
	if *result != "" {
		b, err := json.MarshalIndent(res, "", "  ")
		if err != nil {
			return fmt.Errorf("encoding the result: %w", err)
		}
		if err := os.WriteFile(*result, append(b, '\n'), 0o644); err != nil {
			return fmt.Errorf("writing %s: %w", *result, err)
		}
	}
	return nil
}

// change makes one random transaction: 40% a new order with items, 30% an
// order status update, 15% a customer update, 10% a product price and stock
// update, 5% an order deleted with its items.
func (l *liver) change(ctx context.Context) error {
	tx, err := l.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("starting a live transaction: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // after Commit a no-op
	switch n := l.r.IntN(100); {
	case n < 40:
		if _, _, err := l.insertOrder(ctx, tx, ""); err != nil {
			return err
		}
	case n < 70:
		st := pick(l.r, []string{"paid", "shipped", "delivered", "cancelled"})
		var tracking any
		if st == "shipped" {
			tracking = l.r.Uint64()
		}
		_, err = tx.ExecContext(ctx, l.q("UPDATE `%s`.orders SET status = ?, tracking_no = COALESCE(?, tracking_no) WHERE id = ?"), st, tracking, l.orderID())
	case n < 85:
		_, err = tx.ExecContext(ctx, l.q("UPDATE `%s`.customers SET tier = ?, notes = ?, preferences = JSON_SET(COALESCE(preferences, '{}'), '$.last_seen', ?) WHERE id = ?"),
			pick(l.r, tiers), sentence(l.r, 5), time.Now().UTC().Format(time.RFC3339Nano), 1+l.r.Int64N(l.maxCust))
	case n < 95:
		_, err = tx.ExecContext(ctx, l.q("UPDATE `%s`.products SET price = ?, stock = GREATEST(stock - ?, 0) WHERE id = ?"),
			money(l.r, 99, 99900), l.r.IntN(5), 1+l.r.Int64N(l.maxProd))
	default:
		_, err = l.deleteOrder(ctx, tx, l.orderID())
	}
	if err != nil {
		return fmt.Errorf("making a live change: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("committing a live change: %w", err)
	}
	l.changes++
	return nil
}

func (l *liver) q(format string) string { return fmt.Sprintf(format, l.database) }

// orderID returns an existing or recently deleted order id, biased to
// recent orders.
func (l *liver) orderID() int64 {
	if l.r.IntN(2) == 0 {
		return max(1, l.maxOrder-l.r.Int64N(min(l.maxOrder, 1000)))
	}
	return 1 + l.r.Int64N(l.maxOrder)
}

// insertOrder inserts an order with one to four items and returns its id
// and item count.
func (l *liver) insertOrder(ctx context.Context, tx *sql.Tx, note string) (int64, int, error) {
	now := time.Now().UTC().Format("2006-01-02 15:04:05.000000")
	var n any
	if note != "" {
		n = note
	}
	res, err := tx.ExecContext(ctx, l.q("INSERT INTO `%s`.orders (customer_id, status, total, currency, shipping_address, note, placed_at) VALUES (?, 'new', ?, ?, ?, ?, ?)"),
		1+l.r.Int64N(l.maxCust), money(l.r, 500, 200000), pick(l.r, currencies),
		mustJSON(map[string]any{"street": "1 Live Street", "city": pick(l.r, cities), "zip": "00000"}), n, now)
	if err != nil {
		return 0, 0, fmt.Errorf("inserting a live order: %w", err)
	}
	id, err := res.LastInsertId()
	if err != nil {
		return 0, 0, fmt.Errorf("reading the new order id: %w", err)
	}
	items := 1 + l.r.IntN(4)
	for range items {
		var discount any
		if l.r.IntN(3) == 0 {
			discount = "0.1000"
		}
		if _, err := tx.ExecContext(ctx, l.q("INSERT INTO `%s`.order_items (order_id, product_id, quantity, unit_price, discount, gift_wrap) VALUES (?, ?, ?, ?, ?, ?)"),
			id, 1+l.r.Int64N(l.maxProd), 1+l.r.IntN(3), money(l.r, 99, 50000), discount, l.r.IntN(5) == 0); err != nil {
			return 0, 0, fmt.Errorf("inserting a live order item: %w", err)
		}
	}
	l.maxOrder = max(l.maxOrder, id)
	return id, items, nil
}

// deleteOrder deletes an order and its items; it reports whether the order
// existed.
func (l *liver) deleteOrder(ctx context.Context, tx *sql.Tx, id int64) (bool, error) {
	if _, err := tx.ExecContext(ctx, l.q("DELETE FROM `%s`.order_items WHERE order_id = ?"), id); err != nil {
		return false, fmt.Errorf("deleting the items of order %d: %w", id, err)
	}
	res, err := tx.ExecContext(ctx, l.q("DELETE FROM `%s`.orders WHERE id = ?"), id)
	if err != nil {
		return false, fmt.Errorf("deleting order %d: %w", id, err)
	}
	n, err := res.RowsAffected()
	return n > 0, err
}

// final makes the recognisable last changes: a new order, updated in a
// second transaction, and the delete of an existing order.
func (l *liver) final(ctx context.Context) (*liveResult, error) {
	res := &liveResult{}
	err := l.inTx(ctx, func(tx *sql.Tx) error {
		var err error
		res.LastOrderID, res.LastOrderItems, err = l.insertOrder(ctx, tx, "inserted by the quick start")
		return err
	})
	if err != nil {
		return nil, err
	}
	res.CommittedAt = time.Now().UTC().Format("2006-01-02 15:04:05.000000")
	res.LastOrderNote = "last live change, " + res.CommittedAt + " UTC"
	err = l.inTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, l.q("UPDATE `%s`.orders SET status = 'paid', note = ? WHERE id = ?"), res.LastOrderNote, res.LastOrderID)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("updating the last order: %w", err)
	}
	// Delete an existing order: the newest one before the last order.
	err = l.inTx(ctx, func(tx *sql.Tx) error {
		if err := tx.QueryRowContext(ctx, l.q("SELECT MAX(id) FROM `%s`.orders WHERE id < ?"), res.LastOrderID).Scan(&res.DeletedOrderID); err != nil {
			return fmt.Errorf("finding an order to delete: %w", err)
		}
		_, err := l.deleteOrder(ctx, tx, res.DeletedOrderID)
		return err
	})
	if err != nil {
		return nil, err
	}
	l.changes += 3
	res.Changes = l.changes
	return res, nil
}

func (l *liver) inTx(ctx context.Context, f func(*sql.Tx) error) error {
	tx, err := l.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("starting a transaction: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // after Commit a no-op
	if err := f(tx); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("committing: %w", err)
	}
	return nil
}
