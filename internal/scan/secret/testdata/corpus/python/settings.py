import getpass
import os

DB_PASSWORD = os.environ["DB_PASSWORD"]
CACHE_PASSWORD = os.getenv("CACHE_PASSWORD", "")
SMTP_PASSWORD = "Sup3r$ecret!Mail"
SECRET_KEY = "django-insecure-8f#k2@x!q9v$m3^p7z&w1r*t5y(u0i)o"
ADMIN_PASSWORD = getpass.getpass("Password: ")
DATABASES = {"default": {"PASSWORD": "%(DB_PASSWORD)s", "HOST": "db.internal"}}
PASSWORD_HASHERS = ["django.contrib.auth.hashers.Argon2PasswordHasher"]
AUTH_PASSWORD_VALIDATORS = [{"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"}]
SENTRY_DSN = "https://3f2a9c1e7b3d4e8f@o12345.ingest.sentry.io/67890"
