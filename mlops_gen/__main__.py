"""`python -m mlops_gen` behaves exactly like the `mlops-gen` console script."""

from mlops_gen.entry import main

if __name__ == "__main__":
    main()
