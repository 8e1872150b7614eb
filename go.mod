module github.com/phoenixvc/phoenix

go 1.26.8
