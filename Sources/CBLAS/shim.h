// OpenBLAS's CBLAS interface, and the LAPACK routines Diffuse calls (Fortran ABI).
#include <cblas.h>

// Symmetric eigen-decomposition (divide and conquer), used for the matrix square roots of FID.
void dsyevd_(const char *jobz, const char *uplo, const int *n, double *a, const int *lda,
             double *w, double *work, const int *lwork, int *iwork, const int *liwork, int *info);
