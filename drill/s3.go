package drill

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
)

// S3 is an S3-compatible server on loopback, in memory. It remembers the
// encryption headers of every write, so the drill can check that the
// upload asked for SSE-KMS with the bucket's key as the job does.
type S3 struct {
	URL string

	backend *s3mem.Backend
	server  *httptest.Server

	mu     sync.Mutex
	writes []Encryption
}

// Encryption is what one write request asked for.
type Encryption struct {
	Path, Algorithm, KeyID string
}

// StartS3 starts the server with the buckets already made.
func StartS3(buckets ...string) (*S3, error) {
	s := &S3{backend: s3mem.New()}
	for _, b := range buckets {
		if err := s.backend.CreateBucket(b); err != nil {
			return nil, fmt.Errorf("drill: bucket %s: %w", b, err)
		}
	}
	fake := gofakes3.New(s.backend).Server()
	s.server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPut || r.Method == http.MethodPost {
			s.mu.Lock()
			s.writes = append(s.writes, Encryption{
				Path:      r.URL.Path,
				Algorithm: r.Header.Get("X-Amz-Server-Side-Encryption"),
				KeyID:     r.Header.Get("X-Amz-Server-Side-Encryption-Aws-Kms-Key-Id"),
			})
			s.mu.Unlock()
		}
		fake.ServeHTTP(w, r)
	}))
	s.URL = s.server.URL
	return s, nil
}

// Writes are the encryption headers of the write requests so far.
func (s *S3) Writes() []Encryption {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Encryption(nil), s.writes...)
}

// Keys lists a bucket's object keys under a prefix.
func (s *S3) Keys(bucket, prefix string) ([]string, error) {
	p := gofakes3.NewPrefix(&prefix, nil)
	list, err := s.backend.ListBucket(bucket, &p, gofakes3.ListBucketPage{})
	if err != nil {
		return nil, fmt.Errorf("drill: list %s: %w", bucket, err)
	}
	var keys []string
	for _, c := range list.Contents {
		keys = append(keys, c.Key)
	}
	return keys, nil
}

// Object reads an object whole.
func (s *S3) Object(bucket, key string) ([]byte, error) {
	obj, err := s.backend.GetObject(bucket, key, nil)
	if err != nil {
		return nil, fmt.Errorf("drill: get %s/%s: %w", bucket, key, err)
	}
	defer obj.Contents.Close()
	return io.ReadAll(obj.Contents)
}

// Replace overwrites an object, as a broken or tampered upload would.
func (s *S3) Replace(bucket, key string, body []byte) error {
	if _, err := s.backend.PutObject(bucket, key, map[string]string{}, bytes.NewReader(body), int64(len(body)), nil); err != nil {
		return fmt.Errorf("drill: put %s/%s: %w", bucket, key, err)
	}
	return nil
}

// Close stops the server.
func (s *S3) Close() { s.server.Close() }
