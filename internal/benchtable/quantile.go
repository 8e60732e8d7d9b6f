package benchtable

import (
	"fmt"
	"math"
)

// Bucket is one cumulative histogram bucket: Count observations were <= UpperBound.
type Bucket struct {
	UpperBound float64
	Count      float64
}

// Delta returns after minus before, bucket by bucket: the observations made between two scrapes. The two must have
// the same bounds; a bucket missing from before counts as zero.
func Delta(before, after []Bucket) ([]Bucket, error) {
	prev := make(map[float64]float64, len(before))
	for _, b := range before {
		prev[b.UpperBound] = b.Count
	}
	out := make([]Bucket, len(after))
	for i, b := range after {
		d := b.Count - prev[b.UpperBound]
		if d < 0 {
			return nil, fmt.Errorf("computing the histogram delta: bucket le=%g went down from %g to %g (counter reset)",
				b.UpperBound, prev[b.UpperBound], b.Count)
		}
		out[i] = Bucket{UpperBound: b.UpperBound, Count: d}
	}
	return out, nil
}

// Total is the number of observations of sorted cumulative buckets (the +Inf bucket's count).
func Total(buckets []Bucket) float64 {
	if len(buckets) == 0 {
		return 0
	}
	return buckets[len(buckets)-1].Count
}

// Quantile estimates the q-quantile (0 <= q <= 1) of sorted cumulative buckets the way Prometheus'
// histogram_quantile does: it finds the bucket holding the rank q*total and interpolates linearly inside it, the first
// bucket starting at 0 (when its bound is positive); a rank in the +Inf bucket returns the largest finite bound. It
// returns NaN when there is no observation or no +Inf bucket.
func Quantile(q float64, buckets []Bucket) float64 {
	if len(buckets) < 2 || !math.IsInf(buckets[len(buckets)-1].UpperBound, 1) || math.IsNaN(q) {
		return math.NaN()
	}
	if q < 0 {
		return math.Inf(-1)
	}
	if q > 1 {
		return math.Inf(1)
	}
	total := buckets[len(buckets)-1].Count
	if total == 0 {
		return math.NaN()
	}
	rank := q * total
	b := 0
	for b < len(buckets)-1 && buckets[b].Count < rank {
		b++
	}
	if b == len(buckets)-1 {
		return buckets[len(buckets)-2].UpperBound
	}
	if b == 0 && buckets[0].UpperBound <= 0 {
		return buckets[0].UpperBound
	}
	start, end := 0.0, buckets[b].UpperBound
	count := buckets[b].Count
	if b > 0 {
		start = buckets[b-1].UpperBound
		count -= buckets[b-1].Count
		rank -= buckets[b-1].Count
	}
	if count == 0 {
		return end
	}
	return start + (end-start)*(rank/count)
}
