#ifndef LC_VERSION_H
#define LC_VERSION_H
#define LC_VERSION "0.1.0"
#endif
