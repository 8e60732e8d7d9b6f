package worker

import (
	"math/rand/v2"
	"time"
)

// backoff returns the delay before retry attempt n (0-based): Initial
// doubled n times, capped at Max, with +-20% jitter so that tasks failing
// together do not retry in lockstep.
func (p RetryPolicy) backoff(n int) time.Duration {
	d := p.Initial
	for i := 0; i < n && d < p.Max; i++ {
		d *= 2
	}
	d = min(d, p.Max)
	jitter := (rand.Float64()*0.4 - 0.2) * float64(d)
	return max(time.Duration(float64(d)+jitter), time.Millisecond)
}
