import ConvKit
import ConvKitCLI
import Testing

/// The worked examples of the teaching texts (`shared/seeds/`), by name. Expected values are
/// the texts' own figures; where a text is wrong, PyTorch's value is used and the test says so.
@Suite("Seed worked examples")
struct SeedExampleTests {
    typealias S = SeedExamples

    func expect(_ t: Tensor<Float>, _ shape: [Int], _ values: [Float], sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(t.shape == shape, sourceLocation: sourceLocation)
        #expect(t.scalars == values, sourceLocation: sourceLocation)
    }

    @Test func seed_rgb_32x32_16filters_448_params() throws {
        let y = try conv2d(try Tensor(zeros: [1, 3, 32, 32]), weight: try Tensor(zeros: [16, 3, 3, 3]), bias: try Tensor(zeros: [16]), padding: 1)
        #expect(y.shape == [1, 16, 32, 32])
        #expect(S.convParameters(inChannels: 3, outChannels: 16, kernel: [3, 3]) == 448)
    }

    @Test func seed_fragment1_same_shrink_halve() throws {
        let x = try Tensor<Float>(zeros: [8, 3, 32, 32]), w = try Tensor<Float>(zeros: [16, 3, 3, 3])
        #expect(try conv2d(x, weight: w, padding: 1).shape == [8, 16, 32, 32])
        #expect(try conv2d(x, weight: w).shape == [8, 16, 30, 30])
        #expect(try conv2d(x, weight: w, stride: 2, padding: 1).shape == [8, 16, 16, 16])
    }

    /// The text prints "total params: 6432"; the layers it lists have 6144 (PyTorch agrees).
    @Test func seed_fragment2_params_6144_not_6432() throws {
        let total = S.convParameters(inChannels: 3, outChannels: 16, kernel: [3, 3])
            + S.convParameters(inChannels: 16, outChannels: 32, kernel: [3, 3])
            + S.convParameters(inChannels: 32, outChannels: 32, kernel: [1, 1])
        #expect(total == 6144)
        let x = try Tensor<Float>(zeros: [4, 3, 64, 64])
        let a = try conv2d(x, weight: try Tensor(zeros: [16, 3, 3, 3]), padding: 1)
        let b = try conv2d(a, weight: try Tensor(zeros: [32, 16, 3, 3]), stride: 2, padding: 1)
        let c = try conv2d(b, weight: try Tensor(zeros: [32, 32, 1, 1]))
        #expect([a.shape, b.shape, c.shape] == [[4, 16, 64, 64], [4, 32, 32, 32], [4, 32, 32, 32]])
    }

    @Test func seed_lab_manual_conv_4x4() throws {
        expect(try S.convolve(S.labImage, S.labKernel), [1, 1, 3, 3], [-2, 2, -4, 4, 0, -1, 0, 0, 1])
    }

    @Test func seed_lab_edge_detector_1x2() throws {
        expect(try S.convolve(S.stepImage, S.edgeKernel), [1, 1, 5, 4],
               [0, 0, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0])
    }

    @Test func seed_grid25_corner_kernel_stride1_and_2() throws {
        expect(try S.convolve(S.grid25, S.cornerKernel), [1, 1, 3, 3], [35, 40, 45, 60, 65, 70, 85, 90, 95])
        expect(try S.convolve(S.grid25, S.cornerKernel, stride: 2), [1, 1, 2, 2], [35, 45, 85, 95])
        expect(try S.convolve(S.grid25, S.cornerKernel, stride: 2, padding: 1), [1, 1, 3, 3], [8, 19, 14, 35, 65, 43, 38, 59, 44])
    }

    @Test func seed_grid25_padding_modes() throws {
        expect(try S.convolve(S.grid25, S.cornerKernel, padding: 1), [1, 1, 5, 5],
               [8, 16, 19, 22, 14, 20, 35, 40, 45, 28, 35, 60, 65, 70, 43, 50, 85, 90, 95, 58, 38, 56, 59, 62, 44])
        expect(try S.convolve(S.grid25, S.cornerKernel, padding: 1, mode: .reflect), [1, 1, 5, 5],
               [29, 30, 35, 40, 41, 34, 35, 40, 45, 46, 59, 60, 65, 70, 71, 84, 85, 90, 95, 96, 89, 90, 95, 100, 101])
        expect(try S.convolve(S.grid25, S.cornerKernel, padding: 1, mode: .replicate), [1, 1, 5, 5],
               [17, 20, 25, 30, 33, 32, 35, 40, 45, 48, 57, 60, 65, 70, 73, 82, 85, 90, 95, 98, 97, 100, 105, 110, 113])
        expect(try S.convolve(S.grid25, S.cornerKernel, padding: 1, mode: .circular), [1, 1, 5, 5],
               [65, 60, 65, 70, 65, 40, 35, 40, 45, 40, 65, 60, 65, 70, 65, 90, 85, 90, 95, 90, 65, 60, 65, 70, 65])
    }

    @Test func seed_grid25_dilation2() throws {
        expect(try S.convolve(S.grid25, S.cornerKernel, dilation: 2), [1, 1, 1, 1], [65])
        expect(try S.convolve(S.grid25, S.cornerKernel, padding: 2, dilation: 2), [1, 1, 5, 5],
               [14, 16, 29, 16, 18, 24, 26, 44, 26, 28, 37, 40, 65, 38, 41, 24, 26, 34, 26, 28, 34, 36, 49, 36, 38])
    }

    @Test func seed_fpad_grid9_four_modes() throws {
        expect(try pad(S.grid9, [1, 1, 1, 1]), [1, 1, 5, 5],
               [0, 0, 0, 0, 0, 0, 1, 2, 3, 0, 0, 4, 5, 6, 0, 0, 7, 8, 9, 0, 0, 0, 0, 0, 0])
        expect(try pad(S.grid9, [1, 1, 1, 1], mode: .replicate), [1, 1, 5, 5],
               [1, 1, 2, 3, 3, 1, 1, 2, 3, 3, 4, 4, 5, 6, 6, 7, 7, 8, 9, 9, 7, 7, 8, 9, 9])
        expect(try pad(S.grid9, [1, 1, 1, 1], mode: .reflect), [1, 1, 5, 5],
               [5, 4, 5, 6, 5, 2, 1, 2, 3, 2, 5, 4, 5, 6, 5, 8, 7, 8, 9, 8, 5, 4, 5, 6, 5])
        expect(try pad(S.grid9, [1, 1, 1, 1], mode: .circular), [1, 1, 5, 5],
               [9, 7, 8, 9, 7, 3, 1, 2, 3, 1, 6, 4, 5, 6, 4, 9, 7, 8, 9, 7, 3, 1, 2, 3, 1])
    }

    @Test func seed_sobel_gradient_image_strides() throws {
        expect(try S.convolve(S.gradientImage, S.sobelX), [1, 1, 3, 3], [160, 160, 160, 240, 240, 240, 320, 320, 320])
        expect(try S.convolve(S.gradientImage, S.sobelX, stride: 2), [1, 1, 2, 2], [160, 160, 320, 320])
        expect(try S.convolve(S.gradientImage, S.sobelX, stride: 3), [1, 1, 1, 1], [160])
    }

    @Test func seed_pooling_map_max_and_avg() throws {
        let pooled = try maxPool2d(S.poolingMap, kernelSize: 2)
        expect(pooled.output, [1, 1, 2, 2], [6, 4, 8, 6])
        #expect(pooled.indices?.scalars == [5, 3, 13, 15])
        expect(try avgPool2d(S.poolingMap, kernelSize: 2), [1, 1, 2, 2], [3.75, 2.25, 5.25, 3.75])
    }

    @Test func seed_widget_feature_map_and_ceil_mode() throws {
        let map = try S.convolve(S.widgetInput, S.widgetKernel)
        expect(map, [1, 1, 5, 5], [12, 12, 17, 17, 7, 10, 17, 19, 19, 17, 9, 6, 14, 18, 17, 11, 8, 7, 12, 18, 12, 17, 15, 9, 10])
        expect(try maxPool2d(map, kernelSize: 2).output, [1, 1, 2, 2], [17, 19, 11, 18])
        expect(try maxPool2d(map, kernelSize: 2, ceilMode: true).output, [1, 1, 3, 3], [17, 19, 17, 11, 18, 18, 17, 15, 10])
        expect(try avgPool2d(map, kernelSize: 2, ceilMode: true), [1, 1, 3, 3], [12.75, 18, 12, 8.5, 12.75, 17.5, 14.5, 12, 10])
    }

    @Test func seed_output_size_exercises() throws {
        #expect(OutputSize.convolution(input: 32, kernel: 3, stride: 2, padLow: 1, padHigh: 1, dilation: 1) == 16)
        #expect([1, 2, 4].map { OutputSize.convolution(input: 32, kernel: 3, stride: $0, padLow: 0, padHigh: 0, dilation: 1) } == [30, 15, 8])
        #expect(OutputSize.convolution(input: 32, kernel: 7, stride: 2, padLow: 0, padHigh: 0, dilation: 1) == 13)
        #expect(OutputSize.convolution(input: 224, kernel: 7, stride: 2, padLow: 3, padHigh: 3, dilation: 1) == 112)
        #expect(OutputSize.convolution(input: 224, kernel: 3, stride: 1, padLow: 1, padHigh: 1, dilation: 2) == 222)
        #expect(OutputSize.convolution(input: 128, kernel: 5, stride: 2, padLow: 2, padHigh: 2, dilation: 1) == 64)
        #expect(OutputSize.convolution(input: 28, kernel: 5, stride: 2, padLow: 0, padHigh: 0, dilation: 1) == 12)
    }

    /// The hint of exercise 2 says k_eff = 5 for K = 5, D = 2; it is 9 (the 56×56 output is right).
    @Test func seed_dilated_k5_d2_effective_kernel_is_9() {
        #expect(OutputSize.effectiveKernel(5, dilation: 2) == 9)
        #expect(OutputSize.convolution(input: 56, kernel: 5, stride: 1, padLow: 4, padHigh: 4, dilation: 2) == 56)
        #expect([1, 2, 3, 4, 8].map { OutputSize.effectiveKernel(3, dilation: $0) } == [3, 5, 7, 9, 17])
    }

    @Test func seed_unpadded_stack_erodes_then_rejects() throws {
        var x = try Tensor<Float>(zeros: [1, 1, 32, 32])
        let w = try Tensor<Float>(zeros: [1, 1, 3, 3])
        for _ in 0..<15 { x = try conv2d(x, weight: w) }
        #expect(x.shape == [1, 1, 2, 2])
        #expect(throws: ConvKitError.self) { try conv2d(x, weight: w) }
    }

    @Test func seed_transposed_conv_16_to_32() throws {
        let y = try convTranspose2d(try Tensor(zeros: [1, 1, 16, 16]), weight: try Tensor(zeros: [1, 1, 3, 3]), stride: 2,
                                    padding: 1, outputPadding: 1)
        #expect(y.shape == [1, 1, 32, 32])
    }

    @Test func seed_mnist_pipeline_shapes() throws {
        #expect(try S.mnistPipelineShapes().map(\.1) == [[1, 1, 28, 28], [1, 32, 26, 26], [1, 32, 13, 13], [1, 64, 11, 11], [1, 64, 5, 5], [1, 1600]])
    }

    @Test func seed_same_with_stride_raises_in_pytorch_extended_here() throws {
        // PyTorch rejects padding='same' with stride 2; ConvKit follows TensorFlow: out = ⌈in / s⌉.
        let y = try conv2d(try Tensor(zeros: [1, 1, 7, 8]), weight: try Tensor(zeros: [1, 1, 3, 3]), stride: 2, padding: .same)
        #expect(y.shape == [1, 1, 4, 4])
    }

    @Test func demo_runs_every_step() throws {
        #expect(try DemoCommand.steps().count >= 12)
    }
}
