package main

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"time"
)

// Rows are generated from their id alone (a PCG seeded by table and id), so
// any split of the id range over loader connections yields the same data.

var (
	firstNames = []string{"Ada", "Björn", "Chloé", "Dmitri", "Eşref", "Fatima", "Grace", "Hiroshi", "Inés", "José",
		"Kwame", "Léa", "Małgorzata", "Nguyễn", "Olaf", "Priya", "Quentin", "Renée", "Søren", "Tomás", "Ümit", "李娜", "Zoë"}
	lastNames = []string{"Lovelace", "Ångström", "Müller", "Ivanova", "Yılmaz", "Haddad", "Hopper", "Tanaka", "García",
		"Mensah", "Dubois", "Kowalska", "Văn An", "Nilsen", "Patel", "Durand", "Kierkegaard", "O'Brien", "王", "Łukasiewicz"}
	cities     = []string{"Berlin", "Kraków", "São Paulo", "Reykjavík", "Zürich", "東京", "Αθήνα", "Montréal", "Istanbul", "Lagos"}
	adjectives = []string{"Compact", "Rugged", "Silent", "Smart", "Classic", "Ultra", "Eco", "Foldable", "Wireless", "Vintage"}
	nouns      = []string{"Kettle", "Backpack", "Lamp", "Headphones", "Chair", "Bicycle", "Notebook", "Grinder", "Tent", "Speaker"}
	currencies = []string{"EUR", "USD", "GBP", "JPY", "CHF"}
	tiers      = []string{"bronze", "bronze", "bronze", "silver", "silver", "gold", "platinum"}
	statuses   = []string{"new", "paid", "paid", "shipped", "delivered", "delivered", "delivered", "cancelled"}
	words      = []string{"lorem", "ipsum", "dolor", "sit", "amet", "naïve", "café", "über", "smørrebrød", "crème", "brûlée", "日本語", "emoji 🚲"}
)

// epoch is the earliest generated timestamp.
var epoch = time.Date(2023, 1, 1, 0, 0, 0, 0, time.UTC)

// rng returns the generator of one row.
func rng(table uint64, id int64) *rand.Rand {
	return rand.New(rand.NewPCG(table*0x9E3779B97F4A7C15, uint64(id)))
}

func pick[T any](r *rand.Rand, s []T) T { return s[r.IntN(len(s))] }

// money returns a DECIMAL literal with two digits below minCents+rangeCents.
func money(r *rand.Rand, minCents, rangeCents int64) string {
	c := minCents + r.Int64N(rangeCents)
	return fmt.Sprintf("%d.%02d", c/100, c%100)
}

// ts returns a DATETIME(6) literal within two years after epoch.
func ts(r *rand.Rand) string {
	return epoch.Add(time.Duration(r.Int64N(int64(2*365*24*time.Hour/time.Microsecond))) * time.Microsecond).Format("2006-01-02 15:04:05.000000")
}

func sentence(r *rand.Rand, n int) string {
	s := ""
	for i := range n {
		if i > 0 {
			s += " "
		}
		s += pick(r, words)
	}
	return s
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil { // only maps of plain values are marshalled
		panic(err)
	}
	return string(b)
}

// nullable returns nil (SQL NULL) with probability p, else v.
func nullable(r *rand.Rand, p float64, v any) any {
	if r.Float64() < p {
		return nil
	}
	return v
}

// Column lists of the generated rows, in the order of the row functions.
var columns = map[string]string{
	"customers":   "id, email, name, tier, birth_date, credit_limit, preferences, avatar, notes, created_at, updated_at",
	"products":    "id, sku, name, description, price, weight_grams, stock, status, attributes, created_at",
	"orders":      "id, customer_id, status, total, currency, tracking_no, ship_date, shipping_address, note, placed_at, updated_at",
	"order_items": "id, order_id, product_id, quantity, unit_price, discount, gift_wrap",
}

// row returns the values of a table's row id under plan p.
func row(p plan, table string, id int64) []any {
	switch table {
	case "customers":
		return customerRow(id)
	case "products":
		return productRow(id)
	case "orders":
		return orderRow(p, id)
	default:
		return itemRow(p, id)
	}
}

func customerRow(id int64) []any {
	r := rng(1, id)
	created := ts(r)
	var avatar any
	if r.IntN(3) == 0 {
		b := make([]byte, 16+r.IntN(48))
		for i := range b {
			b[i] = byte(r.UintN(256))
		}
		avatar = b
	}
	birth := epoch.AddDate(-18-r.IntN(60), 0, -r.IntN(365)).Format("2006-01-02")
	prefs := mustJSON(map[string]any{"newsletter": r.IntN(2) == 0, "lang": pick(r, []string{"en", "de", "fr", "ja", "pt"}), "tags": []string{pick(r, words), pick(r, words)}})
	return []any{id, fmt.Sprintf("customer%d@example.com", id), pick(r, firstNames) + " " + pick(r, lastNames), pick(r, tiers),
		nullable(r, 0.1, birth), nullable(r, 0.2, money(r, 10000, 5000000)), nullable(r, 0.15, prefs), avatar,
		nullable(r, 0.5, sentence(r, 4+r.IntN(12))), created, created[:19]}
}

func productRow(id int64) []any {
	r := rng(2, id)
	name := pick(r, adjectives) + " " + pick(r, nouns)
	status := "active"
	if r.IntN(10) == 0 {
		status = "discontinued"
	}
	attrs := mustJSON(map[string]any{"color": pick(r, []string{"red", "black", "white", "grün", "bleu"}), "size": pick(r, []string{"S", "M", "L", "XL"}), "dims_cm": []int{r.IntN(100), r.IntN(100), r.IntN(100)}})
	return []any{id, fmt.Sprintf("SKU-%06d", id), name, nullable(r, 0.2, sentence(r, 8+r.IntN(20))), money(r, 99, 99900),
		nullable(r, 0.1, r.Uint32N(50000)), r.IntN(1000), status, nullable(r, 0.1, attrs), ts(r)}
}

func orderRow(p plan, id int64) []any {
	r := rng(3, id)
	status := pick(r, statuses)
	placed := ts(r)
	var tracking, ship any
	if status == "shipped" || status == "delivered" {
		tracking = r.Uint64() // the full BIGINT UNSIGNED range, half of it above 2^63
		t, _ := time.Parse("2006-01-02 15:04:05.000000", placed)
		ship = t.AddDate(0, 0, 1+r.IntN(5)).Format("2006-01-02")
	}
	addr := mustJSON(map[string]any{"street": fmt.Sprintf("%d %s Street", 1+r.IntN(300), pick(r, lastNames)), "city": pick(r, cities), "zip": fmt.Sprintf("%05d", r.IntN(100000))})
	return []any{id, 1 + r.Int64N(p.Customers), status, money(r, 500, 200000), pick(r, currencies), tracking, ship,
		nullable(r, 0.05, addr), nullable(r, 0.8, sentence(r, 3)), placed, placed[:19]}
}

func itemRow(p plan, id int64) []any {
	r := rng(4, id)
	order := 1 + (id-1)*p.Orders/p.Items // items spread evenly over the orders
	var discount any
	if r.IntN(4) == 0 {
		discount = fmt.Sprintf("0.%04d", r.IntN(5000))
	}
	return []any{id, order, 1 + r.Int64N(p.Products), 1 + r.IntN(5), money(r, 99, 50000), discount, r.IntN(10) == 0}
}
