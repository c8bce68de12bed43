"""The five models of optim, one module each: coverage, staffing, territory, quota, motivation."""
