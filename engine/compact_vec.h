// CompactVec<T>: a vector that is one pointer wide.
//
// Every Resource holds five short lists (its four kinds of references and
// the places of its attributes); most are empty. As std::vector each cost
// 24 bytes inline, 120 bytes a resource, 12 MB at 100,000 resources. A
// CompactVec is 8 bytes and null while empty; its size and capacity live in
// the heap block, in front of the elements.
//
// The interface is the part of std::vector the engine uses: iteration,
// indexing, push_back/emplace_back, reserve, clear and comparison.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <limits>
#include <memory>
#include <new>
#include <stdexcept>
#include <type_traits>
#include <utility>

namespace keel {

template <typename T>
class CompactVec {
  static_assert(alignof(T) <= __STDCPP_DEFAULT_NEW_ALIGNMENT__, "over-aligned element type");
  static_assert(std::is_nothrow_move_constructible_v<T>, "elements move when the block grows");

 public:
  using value_type = T;
  using iterator = T*;
  using const_iterator = const T*;

  CompactVec() = default;
  CompactVec(std::initializer_list<T> init) {
    reserve(init.size());
    for (const T& v : init) emplace_back(v);
  }
  CompactVec(const CompactVec& other) {
    reserve(other.size());
    for (const T& v : other) emplace_back(v);
  }
  CompactVec(CompactVec&& other) noexcept : block_(std::exchange(other.block_, nullptr)) {}
  CompactVec& operator=(const CompactVec& other) {
    if (this != &other) {
      CompactVec copy(other);
      swap(copy);
    }
    return *this;
  }
  CompactVec& operator=(CompactVec&& other) noexcept {
    if (this != &other) {
      Release();
      block_ = std::exchange(other.block_, nullptr);
    }
    return *this;
  }
  CompactVec& operator=(std::initializer_list<T> init) {
    CompactVec copy(init);
    swap(copy);
    return *this;
  }
  ~CompactVec() { Release(); }

  void swap(CompactVec& other) noexcept { std::swap(block_, other.block_); }

  size_t size() const { return block_ ? block_->size : 0; }
  size_t capacity() const { return block_ ? block_->capacity : 0; }
  bool empty() const { return size() == 0; }

  T* data() { return block_ ? Items(block_) : nullptr; }
  const T* data() const { return block_ ? Items(block_) : nullptr; }
  iterator begin() { return data(); }
  iterator end() { return data() + size(); }
  const_iterator begin() const { return data(); }
  const_iterator end() const { return data() + size(); }

  /// Unchecked, as std::vector's.
  T& operator[](size_t i) { return data()[i]; }
  const T& operator[](size_t i) const { return data()[i]; }
  T& front() { return data()[0]; }
  const T& front() const { return data()[0]; }
  T& back() { return data()[size() - 1]; }
  const T& back() const { return data()[size() - 1]; }

  void reserve(size_t n) {
    if (n > capacity()) Regrow(n);
  }
  void push_back(const T& v) { emplace_back(v); }
  void push_back(T&& v) { emplace_back(std::move(v)); }
  template <typename... Args>
  T& emplace_back(Args&&... args) {
    if (size() == capacity()) {
      // The argument may be one of our own elements: build it before the
      // old block goes away.
      T item(std::forward<Args>(args)...);
      Regrow(size() < 2 ? size() + 1 : size() * 2);
      return Append(std::move(item));
    }
    return Append(std::forward<Args>(args)...);
  }
  void clear() {
    if (!block_) return;
    std::destroy(begin(), end());
    block_->size = 0;
  }

  bool operator==(const CompactVec& other) const {
    return std::equal(begin(), end(), other.begin(), other.end());
  }

 private:
  struct Block {
    uint32_t size;
    uint32_t capacity;
  };
  // Elements start at the first multiple of their alignment after the header.
  static constexpr size_t kItems = (sizeof(Block) + alignof(T) - 1) / alignof(T) * alignof(T);

  static T* Items(Block* b) { return reinterpret_cast<T*>(reinterpret_cast<char*>(b) + kItems); }

  template <typename... Args>
  T& Append(Args&&... args) {
    T* slot = Items(block_) + block_->size;
    ::new (static_cast<void*>(slot)) T(std::forward<Args>(args)...);
    ++block_->size;
    return *slot;
  }

  void Regrow(size_t n) {
    if (n > std::numeric_limits<uint32_t>::max()) throw std::length_error("CompactVec too long");
    auto* grown = static_cast<Block*>(::operator new(kItems + n * sizeof(T)));
    grown->size = 0;
    grown->capacity = static_cast<uint32_t>(n);
    if (block_) {
      T* from = Items(block_);
      T* to = Items(grown);
      for (uint32_t i = 0; i < block_->size; ++i) {
        ::new (static_cast<void*>(to + i)) T(std::move(from[i]));
        from[i].~T();
      }
      grown->size = block_->size;
      ::operator delete(block_);
    }
    block_ = grown;
  }

  void Release() {
    if (!block_) return;
    std::destroy(begin(), end());
    ::operator delete(block_);
    block_ = nullptr;
  }

  Block* block_ = nullptr;
};

}  // namespace keel
