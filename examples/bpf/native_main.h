/* Native harness: `./prog NAME INPUT-FILE` runs program NAME (listed by NATIVE_PROGRAMS(X) in the
 * example) on the file's bytes, as prog(data, len), and prints the 64-bit result as 0x%016llx. */
#ifdef NATIVE
#define NATIVE_CASE(fn) if (strcmp(argv[1], #fn) == 0) r = fn(buf, n); else
int main(int argc, char **argv) {
  static u8 buf[65536];
  if (argc != 3) { fprintf(stderr, "usage: %s PROGRAM INPUT\n", argv[0]); return 2; }
  FILE *f = fopen(argv[2], "rb");
  if (!f) { perror(argv[2]); return 2; }
  u64 n = fread(buf, 1, sizeof buf, f);
  fclose(f);
  u64 r;
  NATIVE_PROGRAMS(NATIVE_CASE) { fprintf(stderr, "unknown program %s\n", argv[1]); return 2; }
  printf("0x%016llx\n", (unsigned long long)r);
  return 0;
}
#endif
