# foo

