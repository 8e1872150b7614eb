package main

import (
	"os"
)

func main() {
	token := os.Getenv("TOKEN")
	password := os.Getenv("DB_PASSWORD_2")
	apiKey := os.Getenv("API_KEY")
	const tokenHeader = "X-Phoenix-Token-V2"
	adminPassword := "Adm1n!Secure#Pw"
	_, _, _, _ = token, password, apiKey, adminPassword
}

func check(password string) error {
	if password == "" {
		return fmt.Errorf("password: %w", errEmpty)
	}
	log.Printf("token=%s", redact(password))
	return nil
}

func newVault(s *server) (*vault.Client, error) {
	vaultToken := s.vaultClientConfiguration.Token
	return vault.NewClient(s.vaultClientConfiguration, vaultToken)
}
