var=\"
