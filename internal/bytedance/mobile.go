package bytedance

import (
	"crypto/aes"
	"crypto/cipher"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
)

// DecryptMobile decrypts a user-info answer's encrypt_mobile: standard
// base64 of AES-CBC (AES-256 with the usual 32-character secret) with
// key = the client secret, IV = its first 16 bytes, PKCS#7 padding. What
// it decrypts to must be a phone number (digits, perhaps after "+"):
// anything else (empty, control bytes) is an error, never handed on.
func DecryptMobile(clientSecret, encrypted string) (string, error) {
	block, err := aes.NewCipher([]byte(clientSecret))
	if err != nil {
		return "", fmt.Errorf("client secret is %d bytes, not an AES key of 16, 24 or 32", len(clientSecret))
	}
	data, err := base64.StdEncoding.DecodeString(encrypted)
	if err != nil || len(data) == 0 || len(data)%aes.BlockSize != 0 {
		return "", errors.New("encrypt_mobile is not base64 of whole AES blocks")
	}
	cipher.NewCBCDecrypter(block, []byte(clientSecret)[:aes.BlockSize]).CryptBlocks(data, data)
	n := int(data[len(data)-1])
	if n == 0 || n > aes.BlockSize {
		return "", errors.New("encrypt_mobile has bad padding: wrong client secret?")
	}
	for _, b := range data[len(data)-n:] {
		if int(b) != n {
			return "", errors.New("encrypt_mobile has bad padding: wrong client secret?")
		}
	}
	m := string(data[:len(data)-n])
	if !phoneNumber(m) {
		return "", errors.New("encrypt_mobile does not decrypt to a phone number: wrong client secret?")
	}
	return m, nil
}

// phoneNumber reports whether s is a phone number as encrypt_mobile holds
// one: digits, perhaps after a "+" and a country code, 3 to 20 digits in
// all.
func phoneNumber(s string) bool {
	d := strings.TrimPrefix(s, "+")
	if len(d) < 3 || len(d) > 20 {
		return false
	}
	for _, c := range []byte(d) {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// EncryptMobile is DecryptMobile's inverse, for fakes.
func EncryptMobile(clientSecret, mobile string) (string, error) {
	block, err := aes.NewCipher([]byte(clientSecret))
	if err != nil {
		return "", err
	}
	n := aes.BlockSize - len(mobile)%aes.BlockSize
	data := append([]byte(mobile), make([]byte, n)...)
	for i := len(mobile); i < len(data); i++ {
		data[i] = byte(n)
	}
	cipher.NewCBCEncrypter(block, []byte(clientSecret)[:aes.BlockSize]).CryptBlocks(data, data)
	return base64.StdEncoding.EncodeToString(data), nil
}
