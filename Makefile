# Tandem: two commands to start.
#   make demo   create .venv, install Tandem, load the demo and serve http://127.0.0.1:8000
#   make test   create .venv, install Tandem with [dev], run lint, types and every test
# Choose the interpreter with `make test PYTHON=/path/to/python3.13`; by default the newest
# Python >= 3.11 found on this machine (scripts/find-python).

SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= $(shell scripts/find-python)
VENV := .venv
BIN := $(VENV)/bin
# PYTHON given on the command line or in the environment: .venv must be that very version.
EXACT_PYTHON := $(if $(filter file,$(origin PYTHON)),0,1)

.PHONY: help demo test lint fmt clean venv venv-dev check-python

help:
	@echo "make demo    install Tandem into $(VENV) and serve the demo on http://127.0.0.1:8000"
	@echo "make test    ruff, mypy, pytest on SQLite and PostgreSQL, browser tests"
	@echo "make lint    ruff check and ruff format --check"
	@echo "make fmt     ruff format and ruff check --fix"
	@echo "make clean   remove $(VENV), caches and build output (keeps .tandem/, your data)"

check-python:
	@if [ -z "$(PYTHON)" ]; then \
		echo "No Python >= 3.11 with sqlite3 and ssl found: install one, or pass PYTHON=/path/to/python3"; \
		exit 1; \
	fi

venv: check-python
	@EXACT_PYTHON=$(EXACT_PYTHON) scripts/ensure-venv "$(PYTHON)"

venv-dev: check-python
	@EXACT_PYTHON=$(EXACT_PYTHON) scripts/ensure-venv "$(PYTHON)" dev

demo: venv
	$(BIN)/tandem demo

test: venv-dev
	@scripts/test

lint: venv-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

fmt: venv-dev
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) build dist src/*.egg-info .pytest_cache .mypy_cache .ruff_cache .hypothesis test-results
	find src tests -name __pycache__ -type d -prune -exec rm -rf {} +
