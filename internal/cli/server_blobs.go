package cli

import (
	"os"
	"sync"

	"github.com/spf13/pflag"

	"github.com/phoenixvc/phoenix/internal/app"
	"github.com/phoenixvc/phoenix/internal/artifact/backend/s3"
	"github.com/phoenixvc/phoenix/internal/s3conn"
	"github.com/phoenixvc/phoenix/internal/usererr"
)

// s3Flags name a place in S3-compatible storage: a URL flag with its
// endpoint and region flags (--blob-store, --backup-mirror).
type s3Flags struct{ url, endpoint, region string }

// check refuses the place's URL or endpoint, naming by name
// (Globals.flagOrEnv) the flag of the one refused: urlFlag or endpointFlag.
func (sf s3Flags) check(name func(flag string) string, urlFlag, endpointFlag string) *usererr.Error {
	if _, _, err := s3conn.ParseURL(sf.url); err != nil {
		return usererr.Wrap(usererr.Usage, err, name(urlFlag)+": "+err.Error())
	}
	if err := s3conn.CheckEndpoint(sf.endpoint); err != nil {
		return usererr.Wrap(usererr.Usage, err, name(endpointFlag)+": "+err.Error())
	}
	return nil
}

// config returns the place's settings, the region defaulting to
// $AWS_REGION and the credentials taken from the environment (awsKeys).
func (sf s3Flags) config() s3conn.Config {
	region := sf.region
	if region == "" {
		region = os.Getenv("AWS_REGION")
	}
	access, secret := awsKeys()
	return s3conn.Config{URL: sf.url, Endpoint: sf.endpoint, Region: region, AccessKey: access, SecretKey: secret}
}

// awsKeys returns AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY. The secret
// is removed from the environment, so no process the server starts (a
// pipeline step) inherits it, and kept in memory for the next place that
// needs it (a server with both --blob-store and --backup-mirror).
func awsKeys() (access, secret string) {
	awsSecret.Lock()
	defer awsSecret.Unlock()
	if v, ok := os.LookupEnv("AWS_SECRET_ACCESS_KEY"); ok {
		awsSecret.v = v
		os.Unsetenv("AWS_SECRET_ACCESS_KEY")
	}
	return os.Getenv("AWS_ACCESS_KEY_ID"), awsSecret.v
}

var awsSecret struct {
	sync.Mutex
	v string
}

// blobFlags say where the server keeps artifact blobs: in the data dir
// (the default), or in S3 with the data dir's blobs folder as its cache.
type blobFlags struct{ s3Flags }

func addBlobFlags(f *pflag.FlagSet, bf *blobFlags) {
	f.StringVar(&bf.url, "blob-store", "", "keep artifact blobs in s3://bucket/prefix, the data dir caching what the edge serves (credentials: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY; default: the data dir)")
	f.StringVar(&bf.endpoint, "blob-store-endpoint", "", "S3 API URL of S3-compatible storage for --blob-store (default: AWS)")
	f.StringVar(&bf.region, "blob-store-region", "", "region of --blob-store (default $AWS_REGION, else us-east-1)")
}

// open returns the store of --blob-store, or nil for the data dir. It
// checks the flags only; the server reaches the bucket when it starts.
// A refused value is named by name (Globals.flagOrEnv).
func (bf blobFlags) open(name func(flag string) string) (app.BlobStore, error) {
	if bf.url == "" {
		if bf.endpoint != "" || bf.region != "" {
			set := namesOfSet(name, []flagSet{{"blob-store-endpoint", bf.endpoint != ""}, {"blob-store-region", bf.region != ""}})
			return nil, usererr.New(usererr.Usage, "%s %s --blob-store", joinNames(set), needs(len(set))).
				WithHint("add --blob-store s3://bucket/prefix")
		}
		return nil, nil
	}
	const hint = "write s3://bucket/prefix; for S3-compatible storage add --blob-store-endpoint URL"
	if err := bf.check(name, "blob-store", "blob-store-endpoint"); err != nil {
		return nil, err.WithHint(hint)
	}
	s, err := s3.New(s3.Config{Config: bf.config()})
	if err != nil {
		return nil, usererr.Wrap(usererr.Usage, err, name("blob-store")+": "+err.Error()).WithHint(hint)
	}
	return s, nil
}
