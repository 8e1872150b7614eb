package vault

import (
	"context"
	"fmt"
	"testing"
)

// BenchmarkUnsealDefaultKDF measures what an unseal costs with the
// production argon2id parameters (64 MiB, 3 passes).
func BenchmarkUnsealDefaultKDF(b *testing.B) {
	e := newEnv(b, func(o *Options) { o.KDF = DefaultKDF })
	v := e.open(b, func(o *Options) { o.KDF = DefaultKDF })
	for b.Loop() {
		if err := v.Unseal(context.Background(), SecretString(testMaster)); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSetGet measures one durable write (a new version) and one read
// (unwrap + decrypt) of a 64-byte secret.
func BenchmarkSetGet(b *testing.B) {
	e := newEnv(b)
	ctx := context.Background()
	val := SecretString(fmt.Sprintf("%064d", 7))
	for b.Loop() {
		if _, err := e.v.Set(ctx, admin, "BENCH", val, SetOptions{}); err != nil {
			b.Fatal(err)
		}
		if _, _, err := e.v.Get(ctx, admin, "BENCH", 0); err != nil {
			b.Fatal(err)
		}
	}
}
