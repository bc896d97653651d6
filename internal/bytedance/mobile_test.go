package bytedance

import "testing"

// TestDecryptMobileVector is the vector of PROVIDERS.md (from the C# SDK's
// unit test): AES-256-CBC, key the 32 secret bytes, IV the first 16.
func TestDecryptMobileVector(t *testing.T) {
	const secret = "0123456789abcdef0123456789abcdef"
	got, err := DecryptMobile(secret, "tyUWQwYuUmVFJtElAL+D7Q==")
	if err != nil || got != "12345678910" {
		t.Fatalf("DecryptMobile = %q, %v; want 12345678910", got, err)
	}
	enc, err := EncryptMobile(secret, "12345678910")
	if err != nil || enc != "tyUWQwYuUmVFJtElAL+D7Q==" {
		t.Errorf("EncryptMobile = %q, %v", enc, err)
	}
	for name, c := range map[string][2]string{
		"short secret":  {"fake-client-secret", "tyUWQwYuUmVFJtElAL+D7Q=="},
		"wrong secret":  {"fedcba9876543210fedcba9876543210", "tyUWQwYuUmVFJtElAL+D7Q=="},
		"not base64":    {secret, "!!!"},
		"partial block": {secret, "dHlVV1F3"},
		"empty":         {secret, ""},
	} {
		if got, err := DecryptMobile(c[0], c[1]); err == nil {
			t.Errorf("%s: %q, want an error", name, got)
		}
	}
	// Valid padding around what is no phone number is refused too.
	for _, m := range []string{"", "\x00\xff<script>\x1b[2J\x01", "12 34", "+", "12", "1234567890123456789012"} {
		enc, _ := EncryptMobile(secret, m)
		if got, err := DecryptMobile(secret, enc); err == nil {
			t.Errorf("plaintext %q: %q, want an error", m, got)
		}
	}
	for _, m := range []string{"+8613800138000", "13800138000", "110"} {
		enc, _ := EncryptMobile(secret, m)
		if got, err := DecryptMobile(secret, enc); err != nil || got != m {
			t.Errorf("plaintext %q: %q, %v", m, got, err)
		}
	}
}

func FuzzDecryptMobile(f *testing.F) {
	f.Add("0123456789abcdef0123456789abcdef", "tyUWQwYuUmVFJtElAL+D7Q==")
	f.Add("0123456789abcdef", "AAAAAAAAAAAAAAAAAAAAAA==")
	f.Fuzz(func(t *testing.T, secret, enc string) {
		if m, err := DecryptMobile(secret, enc); err == nil && !phoneNumber(m) { // must not panic
			t.Errorf("decrypted to %q, no phone number", m)
		}
	})
}
